"""Citizens' requests for archive copies: service cards, the request workflow, notifications and downloads.

The portal's one service layer (portal.service.PortalService) owns a RequestDesk (desk.py); the public pages,
the staff pages and the REST API all go through it."""
