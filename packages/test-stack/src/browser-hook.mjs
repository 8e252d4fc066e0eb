#!/usr/bin/env node
// The HUB_BROWSER command of the end-to-end tests: hands the URL to the test's Chromium, the way
// a user's HUB_BROWSER hands it to their browser.
const url = process.argv.at(-1);
const inbox = process.env.HUB_TEST_BROWSER_INBOX;
if (!inbox || !url) process.exit(2);
const response = await fetch(inbox, {method: 'POST', body: url});
process.exit(response.ok ? 0 : 1);
