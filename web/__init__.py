"""The web app's pieces (app.py composes them): service, tabs, rendering, history, API, messages."""
