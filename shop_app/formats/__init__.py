"""How the app reads and writes what several domains show or compare: money, dates and times in the shop's
conventions, plain words for order and stock states, tracking links, phone numbers, emails, names and
addresses, and the delivery date and time slot a shopper asked for."""
