"""Start and stop real OpenStack services on 127.0.0.1 for functional tests.

Nothing here is mocked: MariaDB, Keystone and glance-api run as separate
processes, configured the way an operator would configure them.
"""
