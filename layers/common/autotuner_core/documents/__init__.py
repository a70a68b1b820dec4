"""The documents that flow through the state machine: step N's output is step N+1's input."""
