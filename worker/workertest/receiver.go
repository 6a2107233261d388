package workertest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Receiver is a management software's webhook endpoint for a test: an HTTP server on
// 127.0.0.1 that records every POST it gets and answers what the test says (200 unless
// told otherwise), and that the test can take down and bring back on the same address.
type Receiver struct {
	URL string

	mu     sync.Mutex
	got    []Received
	answer func(Received) int
	down   atomic.Bool
	resets atomic.Int64
	delay  atomic.Int64 // time.Duration
	srv    *http.Server
	ln     net.Listener
}

// Received is one POST as the receiver got it.
type Received struct {
	ID, Timestamp, Signature string
	ContentType              string
	Body                     []byte
	At                       time.Time
	// Status is what the receiver answered.
	Status int
}

// Event is a delivery's body, decoded.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// Event decodes the body.
func (r Received) Event() (Event, error) {
	var e Event
	err := json.Unmarshal(r.Body, &e)
	return e, err
}

// NewReceiver starts a receiver for t, stopped when t ends.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Receiver{ln: &resettingListener{Listener: ln}}
	r.ln.(*resettingListener).r = r
	r.URL = "http://" + ln.Addr().String() + "/livret/evenements"
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(r.ln) }()
	t.Cleanup(func() { _ = r.srv.Close() })
	return r
}

// Answer sets what the receiver answers to each POST from now on (its HTTP status).
func (r *Receiver) Answer(f func(Received) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = f
}

// Down makes the receiver unreachable: every connection is reset as soon as it is made, as
// a closed port refuses it, and none reaches the handler. Its address is kept (never given
// back to the system), so that Up brings it back where it was without a race for the port.
func (r *Receiver) Down() { r.down.Store(true) }

// Up brings the receiver back.
func (r *Receiver) Up() { r.down.Store(false) }

// Delay makes the receiver take d over each POST it accepts, after recording it and before
// answering: as a management software that processes an event before it says so. A client
// that goes away meanwhile has been received all the same.
func (r *Receiver) Delay(d time.Duration) { r.delay.Store(int64(d)) }

// Resets counts the connections reset while the receiver was down.
func (r *Receiver) Resets() int64 { return r.resets.Load() }

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	if r.down.Load() { // a kept-alive connection from before Down
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				_ = c.Close()
				r.resets.Add(1)
				return
			}
		}
	}
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	got := Received{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signature: req.Header.Get("webhook-signature"), ContentType: req.Header.Get("Content-Type"), Body: body, At: time.Now()}
	r.mu.Lock()
	got.Status = http.StatusOK
	if r.answer != nil {
		got.Status = r.answer(got)
	}
	r.got = append(r.got, got)
	r.mu.Unlock()
	if d := time.Duration(r.delay.Load()); d > 0 {
		time.Sleep(d)
	}
	w.WriteHeader(got.Status)
}

// All is every POST received so far, in the order received.
func (r *Receiver) All() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.got...)
}

// Accepted is the POSTs the receiver answered with a 2xx, in the order received.
func (r *Receiver) Accepted() []Received {
	var out []Received
	for _, g := range r.All() {
		if g.Status >= 200 && g.Status <= 299 {
			out = append(out, g)
		}
	}
	return out
}

// WaitFor waits until cond holds of everything received, or fails t after timeout.
func (r *Receiver) WaitFor(t testing.TB, timeout time.Duration, what string, cond func(all []Received) bool) []Received {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		all := r.All()
		if cond(all) {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver did not get %s within %s (%d POSTs received)", what, timeout, len(all))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type resettingListener struct {
	net.Listener
	r *Receiver
}

func (l *resettingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.r.down.Load() {
			return c, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with a reset: the client gets no answer
		}
		_ = c.Close()
		l.r.resets.Add(1)
	}
}

// VerifySignature checks a delivery as a receiver written from the Standard Webhooks
// specification would, without the library Livret signs with: the secret is "whsec_" and
// the base64 of the key; the signed content is "<webhook-id>.<webhook-timestamp>.<body>";
// webhook-signature lists space-separated "v1,<base64 HMAC-SHA256>" signatures, one of which
// must match. CheckTimestamp is the specification's other check.
func VerifySignature(secret string, got Received) error {
	if got.ID == "" || got.Timestamp == "" || got.Signature == "" {
		return errors.New("a webhook-id, webhook-timestamp or webhook-signature header is missing")
	}
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return errors.New("the secret does not start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return errors.New("the secret's key is not base64")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(got.ID + "." + got.Timestamp + "."))
	mac.Write(got.Body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(got.Signature) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		if mac, err := base64.StdEncoding.DecodeString(value); err == nil && hmac.Equal(mac, want) {
			return nil
		}
	}
	return errors.New("no v1 signature matches the body")
}

// CheckTimestamp is the specification's replay guard: webhook-timestamp (Unix seconds) within
// 5 minutes of the delivery's arrival.
func CheckTimestamp(got Received) error {
	ts, err := strconv.ParseInt(got.Timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not Unix seconds", got.Timestamp)
	}
	if skew := got.At.Sub(time.Unix(ts, 0)); skew > 5*time.Minute || skew < -5*time.Minute {
		return fmt.Errorf("webhook-timestamp is %s away from the arrival", skew)
	}
	return nil
}
