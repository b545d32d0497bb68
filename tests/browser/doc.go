// Package browser drives the approval console's page in a real headless
// Chromium (Debian's chromium, through chromedp). It lives in the tests
// module so that the library's own module never requires a browser driver.
// Without Chromium the tests skip, unless MCPKIT_REQUIRE_CHROMIUM is set.
package browser
