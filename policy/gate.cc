// (the gate: in progress)
