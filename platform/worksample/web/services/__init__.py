"""Services: the web app's logic. Routes parse, call one service, render."""
