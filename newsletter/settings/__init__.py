"""Settings staff can change (``/staff/settings``): the site's name and sender, the
organisation and postal address every email names, the consent wording, the brand
colour and logo, the time zone for scheduling."""
