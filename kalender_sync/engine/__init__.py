"""The one sync engine (list -> classify -> diff -> apply -> record) for every calendar target,
export to files, and contacts marked done in a calendar."""
