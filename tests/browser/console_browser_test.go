package browser_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mcpkit-go/mcpkit/mcpkittest"
)

// chromium returns the browser's path, or skips the test when Chromium is
// not installed. Tests call it first, before they build a rig whose
// pending calls would otherwise wait out the approval timeout on skip.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("MCPKIT_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium is not installed and MCPKIT_REQUIRE_CHROMIUM is set (apt-get install chromium)")
		}
		t.Skip("chromium is not installed (apt-get install chromium); skipping the console page test")
	}
	return path
}

// browser starts headless Chromium with the given bearer token on every
// request, or skips the test when Chromium is not installed.
func browser(t *testing.T, token string) context.Context {
	t.Helper()
	path := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + token}}); err != nil {
		t.Fatalf("set the reviewer's token: %v", err)
	}
	return ctx
}

func TestConsolePageApprovesInBrowser(t *testing.T) {
	chromium(t)
	rig := newConsoleRig(t)
	done := rig.start(t, "alice", "a")
	<-rig.pending

	// The caller is not shown their own call: they may never decide it
	// (four eyes).
	own := browser(t, "tok-alice")
	if err := chromedp.Do(own,
		chromedp.Navigate(rig.http.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`p.empty`)),
	); err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(own, chromedp.Evaluate[int](`document.querySelectorAll("div.req").length`))
	if err != nil {
		t.Fatal(err)
	}
	if shown != 0 {
		t.Errorf("the caller is shown %d request(s), want none: their own call is not theirs to decide", shown)
	}

	// A second reviewer approves from the page.
	ctx := browser(t, "tok-bob")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(rig.http.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`div.req button.approve`)),
	); err != nil {
		t.Fatal(err)
	}
	summary := textOf(ctx, t, `div.req h2`)
	you := textOf(ctx, t, `#you`)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`div.req input.reason`), "looks right"),
		chromedp.Click(chromedp.CSS(`div.req button.approve`)),
		chromedp.WaitVisible(chromedp.CSS(`p.empty`)),
	); err != nil {
		t.Fatal(err)
	}
	status := textOf(ctx, t, `#status`)
	if !strings.Contains(summary, "alice wants to run delete_item with id=\"a\"") || you != "bob" || !strings.HasPrefix(status, "Approved ") {
		t.Errorf("page: summary %q, you %q, status %q", summary, you, status)
	}
	r := <-done
	if r.err != nil || r.res.IsError || rig.has("a") {
		t.Fatalf("call approved in the browser did not run: %v %s", r.err, mcpkittest.Text(r.res))
	}
	if a := rig.lastDecision(); a == nil || a.Approver != "bob" || a.Reason != "looks right" {
		t.Errorf("record = %+v", a)
	}
}

func TestConsolePageRefusesAnonymousBrowser(t *testing.T) {
	chromium(t)
	rig := newConsoleRig(t)
	ctx := browser(t, "not-a-token")
	if err := chromedp.Do(ctx, chromedp.Navigate(rig.http.URL+"/")); err != nil {
		t.Fatal(err)
	}
	body := textOf(ctx, t, `body`)
	if !strings.Contains(body, "authentication required") {
		t.Errorf("anonymous page = %q", body)
	}
}

// A signed-in user who is not an approver gets the refusal, not the page.
func TestConsolePageRefusesNonApproverBrowser(t *testing.T) {
	chromium(t)
	rig := newConsoleRig(t)
	ctx := browser(t, "tok-mallory")
	if err := chromedp.Do(ctx, chromedp.Navigate(rig.http.URL+"/")); err != nil {
		t.Fatal(err)
	}
	body := textOf(ctx, t, `body`)
	if !strings.Contains(body, "you are not an approver") || strings.Contains(body, "Approve") {
		t.Errorf("non-approver page = %q", body)
	}
}

func textOf(ctx context.Context, t *testing.T, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return s
}
