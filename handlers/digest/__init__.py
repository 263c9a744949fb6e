"""The weekly digest, its chart, and the quarterly review reminder."""
