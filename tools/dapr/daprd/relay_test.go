package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dapr/components-contrib/pubsub"
	"github.com/dapr/kit/logger"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRelayHoldsMessagesUntilATopicHasASubscriber(t *testing.T) {
	r := newRelay(logger.NewLogger("test"))
	defer r.Close()
	for range 3 {
		if err := r.Publish(context.Background(), &pubsub.PublishRequest{Topic: "t", Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	var got atomic.Int32
	err := r.Subscribe(context.Background(), pubsub.SubscribeRequest{Topic: "t"}, func(context.Context, *pubsub.NewMessage) error {
		got.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "3 held messages", func() bool { return got.Load() == 3 })
	_ = r.Publish(context.Background(), &pubsub.PublishRequest{Topic: "t", Data: []byte("y")})
	waitFor(t, "the 4th message", func() bool { return got.Load() == 4 })
}

func TestRelayRetriesAFailedDelivery(t *testing.T) {
	r := newRelay(logger.NewLogger("test"))
	defer r.Close()
	var attempts atomic.Int32
	_ = r.Subscribe(context.Background(), pubsub.SubscribeRequest{Topic: "t"}, func(context.Context, *pubsub.NewMessage) error {
		if attempts.Add(1) < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	_ = r.Publish(context.Background(), &pubsub.PublishRequest{Topic: "t", Data: []byte("x")})
	waitFor(t, "the third attempt", func() bool { return attempts.Load() == 3 })
}
