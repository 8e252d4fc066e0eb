#!/usr/bin/env node
// The HUB_BROWSER command of the end-to-end tests: hands the URL to the test's Chromium, the way
// a user's HUB_BROWSER hands it to their browser.
const url = process.argv.at(-1);
const inbox = process.env.HUB_TEST_BROWSER_INBOX;
if (!inbox || !url) process.exit(2);
const response = await fetch(inbox, {method: 'POST', body: url});
// A moment more, as a browser's launcher lives on: a test that samples /proc for what hub put in a
// command line must not miss this one because it was too quick.
await new Promise((resolve) => setTimeout(resolve, 500));
process.exit(response.ok ? 0 : 1);
