"""The pure core: job records, actions and the state machine. No I/O, no clock reads."""
