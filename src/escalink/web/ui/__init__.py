"""The agent's sidebar: server-rendered pages (Jinja2 + HTMX) made for Zendesk's 320 px ticket sidebar."""
