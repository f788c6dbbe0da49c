"""A simulated LINE platform: the Messaging API, signed webhook delivery, account linking and a chat page
where a person plays the LINE user, for any number of channels on one port.

It stands where LINE stands and never imports the app (``shop_app``), its protocol clients
(``integrations``) or the simulated store (``devstore``).
"""

from __future__ import annotations
