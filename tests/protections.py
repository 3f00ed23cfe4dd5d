# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The property-protection rules the README gives for the records.

The records' rule (``import_ext_*`` read-only for users but the dry-run
request) before a catch-all rule, as an operator writes them (roles
format).
"""

RECORDS_PROTECTED = """\
[^import_ext_(?!dry_run$).*]
create = admin
read = admin,member,reader
update = admin
delete = admin

[.*]
create = @
read = @
update = @
delete = @
"""
