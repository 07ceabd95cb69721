"""Signed webhooks for clinic systems: every referral status change pushed to the referrer's system.

- `addresses`: which endpoint URLs are accepted (https to public addresses; http and private
  ones only with WEBHOOK_ALLOW_PRIVATE), checked at registration and again at delivery;
- `service`: endpoints (register, list, delete) and the one queueing of events, called in the
  transaction of the change (a referral move), so an event exists exactly when the move does;
- `delivery`: the sender, run by `flask send-mail` next to the mail outbox: Standard Webhooks
  signatures, retries with the outbox's back-off, an endpoint disabled (and its owner told)
  once a delivery has failed for about two days;
- `api`: `/api/v1/webhooks` on the API blueprint.

A payload never carries patient details: the receiver fetches the referral with its token.
"""
