"""supervisord: starting the appliance and telling its programs about changes."""
