"""The 工作台: a local web page over the same library functions as the command line.

`app.py` wires routes and the safety checks, `views/` are thin, `templates/` hold the HTML (Jinja),
`static/` the vendored assets (no CDN); `server.py` starts it (`python -m pipeline serve`)."""
