"""Mail: collect submissions from a mailbox or .eml folder; send receipts and reminders."""
