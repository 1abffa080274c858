"""Educational articles: safe rendering, validation, permissions, reading, writing, import."""
