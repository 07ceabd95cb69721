"""Keeping listings current (issue 12): the public corrects a listing, reports a concern, and
practitioners confirm their details once a year.

- `fields`: the details a visitor may say are wrong, and how an accepted correction is applied;
- `service`: record, accept, dismiss, escalate; confirmations and their reminders;
- `forms`, `views`: the public forms (protected like the enquiry form), the practitioner's list.
"""
