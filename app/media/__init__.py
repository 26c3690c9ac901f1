"""Pictures in the thread: images checked by their content, re-encoded without their
metadata (a phone photo carries its GPS position), size-capped, and kept behind one
storage interface (the database by default, which works for one process and many)."""
