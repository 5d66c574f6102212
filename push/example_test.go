package push_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/bouncer-dev/bouncer/classify"
	"github.com/bouncer-dev/bouncer/push"
	"github.com/bouncer-dev/bouncer/suppress"
)

func Example() {
	// A stand-in for listmonk that has one subscriber and prints each
	// bounce it is sent.
	listmonk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet { // the subscriber lookup
			w.Write([]byte(`{"data":{"results":[{"id":1,"email":"gone@example.com","status":"enabled"}]}}`))
			return
		}
		var b struct{ Email, Type, Source string }
		json.NewDecoder(r.Body).Decode(&b)
		fmt.Println(r.Method, r.URL.Path, b.Email, b.Type, b.Source)
		w.Write([]byte(`{"data":true}`))
	}))
	defer listmonk.Close()

	dir, err := os.MkdirTemp("", "push-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	secrets := filepath.Join(dir, "push-secrets")
	if err := os.WriteFile(secrets, []byte("listmonk bouncer-api:TOKEN\n"), 0o600); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	db, err := suppress.Open(ctx, filepath.Join(dir, "state.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	// --push listmonk=URL --push-secret-file FILE
	target, err := push.ParseTarget("listmonk=" + listmonk.URL)
	if err != nil {
		log.Fatal(err)
	}
	d, err := push.New(db, []push.Target{target}, &push.Options{SecretFile: secrets})
	if err != nil {
		log.Fatal(err)
	}

	// From now on Record queues each new event in its own transaction.
	date := time.Date(2026, 1, 4, 4, 0, 0, 0, time.UTC)
	_, err = db.Record(ctx, &suppress.Message{
		Hash: suppress.Hash([]byte("the raw bounce")), Date: date,
		Events: []suppress.Event{
			{Address: "gone@example.com", Reason: classify.ReasonUserUnknown, Status: "5.1.1"},
			{Address: "blocked@example.com", Reason: classify.ReasonBlocked, Status: "5.7.1"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	st, err := d.Deliver(ctx) // in --watch: go d.Run(ctx), and d.Notify() after recording
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("delivered %d, retried %d, failed %d\n", st.Delivered, st.Retried, st.Failed)
	st, _ = d.Deliver(ctx)
	fmt.Printf("again: delivered %d\n", st.Delivered)
	// Output:
	// POST /webhooks/bounce gone@example.com hard bouncer
	// delivered 1, retried 0, failed 0
	// again: delivered 0
}

// A receiver checks a delivery by computing the signature over the raw
// body with the shared key and comparing it in constant time.
func ExampleSign() {
	key := []byte("a-long-random-key")
	body := []byte(`{"id":"f55bb02c71cafc729fb8ba1e4d8269f4","type":"bounce.hard"}`)
	timestamp := int64(1767499200) // the Webhook-Timestamp header
	received := "v1=fa348721eb323c444fcd2965040ff08984753ee7ae9339793ed40d512fed4d53"

	want := push.Sign(key, timestamp, body)
	fmt.Println(hmac.Equal([]byte(want), []byte(received)))
	// Output: true
}
