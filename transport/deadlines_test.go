package transport_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcpkit-go/mcpkit/transport"
)

// serveReal runs transport.Serve on 127.0.0.1 and returns its address.
func serveReal(t *testing.T, hopts []transport.Option, sopts ...transport.ServeOption) string {
	t.Helper()
	srv, _ := newTestServer(t)
	h, err := transport.NewHandler(srv, append([]transport.Option{transport.WithAuthenticator(staticTokens(t))}, hopts...)...)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- transport.Serve(ctx, ln, h, append([]transport.ServeOption{transport.WithShutdownTimeout(time.Second)}, sopts...)...)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ln.Addr().String()
}

// trickle opens a connection, sends head, then one byte of filler every
// 100ms, and returns how long the server kept the connection open (capped
// at limit) and what it answered.
func trickle(t *testing.T, addr, head string, limit time.Duration) (time.Duration, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = io.WriteString(conn, head)
	require.NoError(t, err)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	require.NoError(t, conn.SetReadDeadline(start.Add(limit)))
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return limit, string(got)
	}
	return time.Since(start), string(got)
}

// Finding 3: a client trickling its body or its headers is cut off after
// the read bounds, authenticated or not.
func TestSlowClientsAreCutOff(t *testing.T) {
	addr := serveReal(t, []transport.Option{transport.WithBodyReadTimeout(500 * time.Millisecond)},
		transport.WithReadHeaderTimeout(500*time.Millisecond))
	post := func(token string) string {
		h := "POST /mcp HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100000\r\n"
		if token != "" {
			h += "Authorization: Bearer " + token + "\r\n"
		}
		return h + "\r\n"
	}
	for name, head := range map[string]string{
		"authenticated body":   post(aliceToken),
		"unauthenticated body": post(""),
		"headers":              "POST /mcp HTTP/1.1\r\nHost: " + addr + "\r\nX-Slow:",
	} {
		t.Run(name, func(t *testing.T) {
			held, answer := trickle(t, addr, head, 10*time.Second)
			assert.Less(t, held, 3*time.Second, "the connection must be closed; got %q", answer)
			if name == "unauthenticated body" {
				assert.Contains(t, answer, "401 Unauthorized", "refused at once, before the body")
			}
		})
	}
}

// The body bound does not touch streams: a GET stream outlives it, and a
// session keeps working.
func TestStreamsOutliveTheBodyReadTimeout(t *testing.T) {
	addr := serveReal(t, []transport.Option{transport.WithBodyReadTimeout(300 * time.Millisecond)})
	url := "http://" + addr
	resp := openSession(t, url, aliceToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sid := resp.Header.Get("Mcp-Session-Id")
	headers := map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18"}
	resp = post(t, url+"/mcp", aliceToken, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, headers)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)

	req, err := http.NewRequest(http.MethodGet, url+"/mcp", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+aliceToken)
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	stream, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer stream.Body.Close()
	require.Equal(t, http.StatusOK, stream.StatusCode)
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(stream.Body))
		close(ended)
	}()
	time.Sleep(time.Second)
	select {
	case <-ended:
		t.Fatal("the GET stream ended at the body read timeout")
	default:
	}
	resp = post(t, url+"/mcp", aliceToken, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_echo","arguments":{"text":"still here"}}}`, headers)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, readBody(t, resp), "still here")
}

func TestServeRefusesNonPositiveBounds(t *testing.T) {
	srv, _ := newTestServer(t)
	h, err := transport.NewHandler(srv, transport.WithAuthenticator(staticTokens(t)))
	require.NoError(t, err)
	for _, o := range []transport.ServeOption{transport.WithReadHeaderTimeout(0), transport.WithIdleTimeout(-time.Second), transport.WithMaxHeaderBytes(0)} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		err = transport.Serve(context.Background(), ln, h, o)
		require.Error(t, err)
		assert.True(t, strings.Contains(err.Error(), "must be positive"), err.Error())
	}
}
