// Meridian front-end entry point.
// Loaded as <script type="module" src="/static/js/app.js"> (no inline scripts:
// the CSP forbids them). Module scripts run after the document is parsed, so
// document.body exists here.
import { initAll } from '/static/govuk/govuk-frontend.min.js';

// govuk-frontend 6 only initialises its components (and only applies its
// JS-dependent styles) when <body> has this class. GOV.UK's page template adds
// it with an inline script; we add it here instead. A browser that can run
// this module supports govuk-frontend's JavaScript.
document.body.classList.add('govuk-frontend-supported');

initAll();
