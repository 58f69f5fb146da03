package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	tele "gopkg.in/telebot.v3"
)

// poll long-polls Telegram's getUpdates until ctx ends, and hands each update to the
// worker of its chat: a chat's updates are handled one at a time and in order (the
// address steps depend on it), different chats at once. It is the bot's own loop
// rather than telebot's poller so that a long poll ends at once with ctx, a failing
// Telegram is retried with backoff instead of in a tight loop, and shutdown lets the
// handlers that are running finish and confirms their updates, so that none is
// handled twice after a restart.
func (b *Bot) poll(ctx context.Context) {
	d := &dispatcher{queues: map[int64][]tele.Update{}, handle: b.tg.ProcessUpdate}
	hc := &http.Client{Timeout: b.cfg.PollTimeout + 30*time.Second}
	offset, backoff := 0, time.Second
	for ctx.Err() == nil {
		updates, retry, err := b.getUpdates(ctx, hc, offset, b.cfg.PollTimeout)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			wait := max(backoff, retry)
			b.log.Error("telegram: getUpdates failed; retrying", "err", err, "in", wait.String())
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			backoff = min(2*backoff, time.Minute)
			continue
		}
		backoff = time.Second
		for _, u := range updates {
			offset = u.ID + 1
			d.dispatch(u)
		}
	}
	d.wait()
	if offset > 0 {
		// Confirm the last updates handled: Telegram forgets the updates below offset.
		confirm, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, _, err := b.getUpdates(confirm, hc, offset, 0); err != nil {
			b.log.Warn("telegram: could not confirm the last updates; they may be handled again", "err", err)
		}
	}
}

// getUpdates calls the Bot API's getUpdates; retry is Telegram's retry_after when it
// asks for patience.
func (b *Bot) getUpdates(ctx context.Context, hc *http.Client, offset int, timeout time.Duration) ([]tele.Update, time.Duration, error) {
	body, _ := json.Marshal(map[string]any{"offset": offset, "timeout": int(timeout / time.Second),
		"allowed_updates": []string{"message", "edited_message", "callback_query"}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.cfg.TelegramAPIURL+"/bot"+b.cfg.TelegramToken+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		// The URL holds the token: never log it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, 0, fmt.Errorf("getUpdates: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("getUpdates: %w", err)
	}
	var r struct {
		OK          bool          `json:"ok"`
		Result      []tele.Update `json:"result"`
		Code        int           `json:"error_code"`
		Description string        `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, 0, fmt.Errorf("getUpdates: status %d, not JSON", resp.StatusCode)
	}
	if !r.OK {
		return nil, time.Duration(r.Parameters.RetryAfter) * time.Second, fmt.Errorf("getUpdates: %s (%d)", r.Description, r.Code)
	}
	return r.Result, 0, nil
}

// dispatcher runs each chat's updates in order on a goroutine of the chat's own,
// which ends when the chat's queue is empty.
type dispatcher struct {
	mu     sync.Mutex
	queues map[int64][]tele.Update
	wg     sync.WaitGroup
	handle func(tele.Update)
}

func (d *dispatcher) dispatch(u tele.Update) {
	id := chatOf(u)
	d.mu.Lock()
	defer d.mu.Unlock()
	q, running := d.queues[id]
	d.queues[id] = append(q, u)
	if !running {
		d.wg.Add(1)
		go d.run(id)
	}
}

func (d *dispatcher) run(id int64) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		q := d.queues[id]
		if len(q) == 0 {
			delete(d.queues, id)
			d.mu.Unlock()
			return
		}
		u := q[0]
		d.queues[id] = q[1:]
		d.mu.Unlock()
		d.handle(u)
	}
}

// wait returns when every queued update has been handled.
func (d *dispatcher) wait() { d.wg.Wait() }

// chatOf is the chat (or, failing that, the user) an update belongs to.
func chatOf(u tele.Update) int64 {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID
	case u.EditedMessage != nil && u.EditedMessage.Chat != nil:
		return u.EditedMessage.Chat.ID
	case u.Callback != nil && u.Callback.Sender != nil:
		return u.Callback.Sender.ID
	}
	return 0
}
