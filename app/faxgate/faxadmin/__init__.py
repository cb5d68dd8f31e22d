"""faxadmin: the web admin, the users' fax pages and the REST API (falcon under gunicorn).

`app.create_app(config)` builds the WSGI application from its dependencies; `app.get_app()` is
what gunicorn loads; `main.main(argv)` runs gunicorn for `python -m faxgate faxadmin`.
"""
