package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/dapr/components-contrib/metadata"
	"github.com/dapr/components-contrib/pubsub"
	"github.com/dapr/kit/logger"
)

// relay is an in-process pub/sub that delivers every message on its own
// goroutine and retries a failed delivery with backoff.
//
// It exists for the embedded profile's transactional outbox. daprd's outbox
// hands each transaction to an internal topic whose handler waits a second
// before it checks the state and forwards the event. pubsub.in-memory runs a
// subscriber's deliveries one at a time and makes Publish wait for the
// previous delivery, so with it as the outbox's internal pub/sub every state
// transaction waits about a second for the one before (about one write a
// second). With the relay as `outboxPubsub`, the internal hop runs
// concurrently; the events themselves still go through pubsub.in-memory.
//
// A message published while a topic has no subscriber is held until one
// subscribes: daprd subscribes the outbox's internal topics only once the
// app is healthy, and a write in between must not lose its event.
type relay struct {
	log     logger.Logger
	mu      sync.Mutex
	subs    map[string]map[int]pubsub.Handler
	pending map[string][]*pubsub.NewMessage
	nextID  int
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

const (
	relayFirstBackoff = 200 * time.Millisecond
	relayMaxBackoff   = 10 * time.Second
	relayMaxAttempts  = 30
	// Messages held per topic while it has no subscriber; past this, Publish fails.
	relayMaxPending = 10000
)

func newRelay(log logger.Logger) pubsub.PubSub {
	ctx, cancel := context.WithCancel(context.Background())
	return &relay{
		log:     log,
		subs:    map[string]map[int]pubsub.Handler{},
		pending: map[string][]*pubsub.NewMessage{},
		ctx:     ctx,
		cancel:  cancel,
	}
}

func (r *relay) Init(context.Context, pubsub.Metadata) error {
	r.log.Infof("outbox-relay ready (daprd build %s)", sourceDigest)
	return nil
}

func (r *relay) Features() []pubsub.Feature { return nil }

func (r *relay) GetComponentMetadata() metadata.MetadataMap { return metadata.MetadataMap{} }

func (r *relay) Publish(_ context.Context, req *pubsub.PublishRequest) error {
	if r.ctx.Err() != nil {
		return pubsub.NewTerminalError(errors.New("outbox-relay is closed"))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.subs[req.Topic]) == 0 {
		if len(r.pending[req.Topic]) >= relayMaxPending {
			return errors.New("outbox-relay: topic " + req.Topic + " has no subscriber and too many held messages")
		}
		r.pending[req.Topic] = append(r.pending[req.Topic], newMessage(req))
		return nil
	}
	for _, handler := range r.subs[req.Topic] {
		r.wg.Add(1)
		go r.deliver(handler, newMessage(req))
	}
	return nil
}

func newMessage(req *pubsub.PublishRequest) *pubsub.NewMessage {
	return &pubsub.NewMessage{Data: req.Data, Topic: req.Topic, Metadata: req.Metadata, ContentType: req.ContentType}
}

func (r *relay) deliver(handler pubsub.Handler, msg *pubsub.NewMessage) {
	defer r.wg.Done()
	wait := relayFirstBackoff
	for attempt := 1; ; attempt++ {
		err := handler(r.ctx, msg)
		if err == nil {
			return
		}
		if attempt == relayMaxAttempts {
			r.log.Errorf("outbox-relay: giving up on a message of topic %s after %d attempts: %v", msg.Topic, attempt, err)
			return
		}
		r.log.Warnf("outbox-relay: delivery on topic %s failed, retrying in %s: %v", msg.Topic, wait, err)
		select {
		case <-time.After(wait):
		case <-r.ctx.Done():
			return
		}
		wait = min(wait*2, relayMaxBackoff)
	}
}

func (r *relay) Subscribe(ctx context.Context, req pubsub.SubscribeRequest, handler pubsub.Handler) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.subs[req.Topic] == nil {
		r.subs[req.Topic] = map[int]pubsub.Handler{}
	}
	id := r.nextID
	r.nextID++
	r.subs[req.Topic][id] = handler
	for _, msg := range r.pending[req.Topic] {
		r.wg.Add(1)
		go r.deliver(handler, msg)
	}
	delete(r.pending, req.Topic)
	go func() {
		select {
		case <-ctx.Done():
		case <-r.ctx.Done():
		}
		r.mu.Lock()
		delete(r.subs[req.Topic], id)
		r.mu.Unlock()
	}()
	return nil
}

func (r *relay) Close() error {
	r.cancel()
	r.wg.Wait()
	return nil
}
