"""Known mistakes (to be filled)."""
MISTAKES = ()
