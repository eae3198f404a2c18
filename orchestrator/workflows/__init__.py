"""Seed 003's ticket workflows: the format (``seed``), its compiler to a YAML blueprint
document (``compile``), and the report a finished ticket carries (``report``)."""
