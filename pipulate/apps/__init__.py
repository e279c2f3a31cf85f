"""The built-in apps. Each module here is loaded exactly as a module of a user's plugins folder."""
