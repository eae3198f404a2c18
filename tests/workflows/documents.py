"""YAML blueprint documents the registration tests send."""

from __future__ import annotations

APPROVAL_YAML = """\
blueprint: expense-approval
states:
  ask:
    start: true
    action:
      await_human:
        decisions: {approve: approved, reject: rejected}
  approved:
    end: true
    result: {approved: true, amount: "{{ initial_data.amount }}"}
  rejected:
    end: true
    result: {approved: false}
"""

UNKNOWN_TASK_YAML = """\
blueprint: needs-a-worker
states:
  go:
    start: true
    action:
      dispatch_task: {task_type: nobody-does-this, transitions: {success: done}}
  done:
    end: true
"""
