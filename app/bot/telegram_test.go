package bot_test

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// fakeTelegram is a Bot API server on httptest: the real method names, parameters
// (JSON bodies, multipart uploads) and answers ({"ok": true, "result": ...} or
// {"ok": false, "error_code", "description"}), with Telegram's checks of HTML text,
// lengths and button data. Tests script the updates of customers (messages and
// button presses) and read what the bot sent.
type fakeTelegram struct {
	t     testing.TB
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	changed  *sync.Cond
	updates  []update // queued, in update_id order
	nextUpd  int
	nextMsg  int
	sent     []sent       // every sendMessage, sendPhoto and editMessageText, in order
	messages map[int]sent // message id → the message as it is now (after edits)
	answered map[string]bool
	presses  []string // callback query ids
	commands []string
	calls    map[string]int
}

type update struct {
	ID   int
	JSON map[string]any
}

// sent is a message the bot sent (or edited).
type sent struct {
	Method    string
	ChatID    int64
	MessageID int
	HTML      string // as sent
	Text      string // as Telegram shows it: tags removed, entities decoded
	Buttons   [][]button
	Photo     []byte // an uploaded photo
	PhotoRef  string // a photo sent by file id
}

type button struct {
	Text string `json:"text"`
	Data string `json:"callback_data"`
	URL  string `json:"url"`
}

const botUserID = 7000001

func newFakeTelegram(t testing.TB) *fakeTelegram {
	f := &fakeTelegram{t: t, token: "123456:TEST-token_fake", nextUpd: 1, nextMsg: 100,
		messages: map[int]sent{}, answered: map[string]bool{}, calls: map[string]int{}}
	f.changed = sync.NewCond(&f.mu)
	// Wake the waiting long polls and expectations regularly, so that they notice a
	// request that ended or a deadline that passed. (Cleanups run last first: the
	// ticker stops after the server is closed.)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				f.mu.Lock()
				f.changed.Broadcast()
				f.mu.Unlock()
			}
		}
	}()
	return f
}

func (f *fakeTelegram) URL() string { return f.srv.URL }

func reply(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func fail(w http.ResponseWriter, code int, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": code, "description": description})
}

// params reads a method's parameters from a JSON body, a form or a multipart form, as
// the Bot API does; file holds an uploaded "photo".
func params(r *http.Request) (p map[string]string, file []byte, err error) {
	p = map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		// Read the parts by hand: an upload may have an empty filename (telebot's
		// uploads from a reader do), which Go's form parser would take for a value.
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, nil, err
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, err
			}
			data, err := io.ReadAll(io.LimitReader(part, 50<<20))
			if err != nil {
				return nil, nil, err
			}
			_, disp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			if _, upload := disp["filename"]; upload {
				if part.FormName() == "photo" {
					file = data
				}
				continue
			}
			p[part.FormName()] = string(data)
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, nil, err
		}
		for k, v := range r.PostForm {
			p[k] = v[0]
		}
	default:
		var m map[string]any
		body, _ := io.ReadAll(r.Body)
		if len(body) > 0 {
			if err := json.Unmarshal(body, &m); err != nil {
				return nil, nil, err
			}
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				p[k] = v
			case float64:
				p[k] = strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				p[k] = strconv.FormatBool(v)
			default:
				b, _ := json.Marshal(v)
				p[k] = string(b)
			}
		}
	}
	return p, file, nil
}

var routePattern = regexp.MustCompile(`^/bot([^/]+)/([A-Za-z]+)$`)

func (f *fakeTelegram) serve(w http.ResponseWriter, r *http.Request) {
	m := routePattern.FindStringSubmatch(r.URL.Path)
	if m == nil {
		fail(w, http.StatusNotFound, "Not Found")
		return
	}
	if m[1] != f.token {
		fail(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	method := m[2]
	p, file, err := params(r)
	if err != nil {
		fail(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return
	}
	f.mu.Lock()
	f.calls[method]++
	f.mu.Unlock()
	switch method {
	case "getMe":
		reply(w, map[string]any{"id": botUserID, "is_bot": true, "first_name": "OrderDesk Shop", "username": "orderdesk_shop_bot",
			"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false})
	case "getUpdates":
		f.getUpdates(w, r, p)
	case "setMyCommands":
		var cmds []struct {
			Command string `json:"command"`
		}
		if err := json.Unmarshal([]byte(p["commands"]), &cmds); err != nil {
			fail(w, http.StatusBadRequest, "Bad Request: can't parse commands JSON object")
			return
		}
		f.mu.Lock()
		f.commands = nil
		for _, c := range cmds {
			f.commands = append(f.commands, c.Command)
		}
		f.mu.Unlock()
		reply(w, true)
	case "sendMessage", "sendPhoto", "editMessageText":
		f.message(w, method, p, file)
	case "answerCallbackQuery":
		f.mu.Lock()
		f.answered[p["callback_query_id"]] = true
		f.mu.Unlock()
		if utf8.RuneCountInString(p["text"]) > 200 {
			fail(w, http.StatusBadRequest, "Bad Request: MESSAGE_TOO_LONG")
			return
		}
		reply(w, true)
	case "deleteMessage":
		reply(w, true)
	default:
		f.t.Errorf("fake Telegram: the bot called %s, which the fake does not implement", method)
		fail(w, http.StatusNotFound, "Not Found: method not found")
	}
}

func (f *fakeTelegram) getUpdates(w http.ResponseWriter, r *http.Request, p map[string]string) {
	offset, _ := strconv.Atoi(p["offset"])
	timeout, _ := strconv.Atoi(p["timeout"])
	deadline := time.Now().Add(time.Duration(timeout) * time.Second)
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		// An offset confirms (forgets) every update before it.
		for len(f.updates) > 0 && f.updates[0].ID < offset {
			f.updates = f.updates[1:]
		}
		if len(f.updates) > 0 || !time.Now().Before(deadline) || r.Context().Err() != nil {
			break
		}
		f.changed.Wait()
	}
	out := []map[string]any{}
	for _, u := range f.updates {
		out = append(out, u.JSON)
	}
	reply(w, out)
}

var (
	tagPattern    = regexp.MustCompile(`<(/?)([a-zA-Z-]+)((?:\s+[a-z]+="[^"]*")*)\s*>`)
	entityPattern = regexp.MustCompile(`^&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);`)
	allowedTags   = map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true,
		"strike": true, "del": true, "code": true, "pre": true, "a": true, "tg-spoiler": true, "blockquote": true}
)

// renderHTML checks text as Telegram's HTML parse mode does (known tags, balanced,
// every & an entity, no stray <) and returns it as shown.
func renderHTML(s string) (string, error) {
	var stack []string
	var out strings.Builder
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			m := tagPattern.FindStringSubmatchIndex(s[i:])
			if m == nil || m[0] != 0 {
				return "", fmt.Errorf("can't parse entities: unexpected < at byte offset %d", i)
			}
			closing, name := s[i+m[2]:i+m[3]] == "/", strings.ToLower(s[i+m[4]:i+m[5]])
			if !allowedTags[name] {
				return "", fmt.Errorf("can't parse entities: unsupported start tag %q at byte offset %d", name, i)
			}
			if closing {
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return "", fmt.Errorf("can't parse entities: can't find end tag corresponding to start tag %q", name)
				}
				stack = stack[:len(stack)-1]
			} else {
				stack = append(stack, name)
			}
			i += m[1]
		case '&':
			m := entityPattern.FindString(s[i:])
			if m == "" {
				return "", fmt.Errorf("can't parse entities: unsupported entity at byte offset %d", i)
			}
			out.WriteString(html.UnescapeString(m))
			i += len(m)
		case '>':
			return "", fmt.Errorf("can't parse entities: unexpected > at byte offset %d", i)
		default:
			out.WriteByte(s[i])
			i++
		}
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("can't parse entities: can't find end tag corresponding to start tag %q", stack[0])
	}
	return out.String(), nil
}

func (f *fakeTelegram) message(w http.ResponseWriter, method string, p map[string]string, file []byte) {
	chat, err := strconv.ParseInt(p["chat_id"], 10, 64)
	if err != nil || chat == 0 {
		fail(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	s := sent{Method: method, ChatID: chat, Photo: file}
	text, limit := p["text"], 4096
	if method == "sendPhoto" {
		text, limit = p["caption"], 1024
		if file == nil {
			s.PhotoRef = p["photo"]
			if s.PhotoRef == "" {
				fail(w, http.StatusBadRequest, "Bad Request: there is no photo in the request")
				return
			}
		}
	}
	s.HTML, s.Text = text, text
	if p["parse_mode"] == "HTML" {
		if s.Text, err = renderHTML(text); err != nil {
			f.t.Errorf("fake Telegram: %s refused: %v in %q", method, err, text)
			fail(w, http.StatusBadRequest, "Bad Request: "+err.Error())
			return
		}
	}
	switch n := utf8.RuneCountInString(strings.TrimSpace(s.Text)); {
	case n == 0 && method != "sendPhoto":
		fail(w, http.StatusBadRequest, "Bad Request: message text is empty")
		return
	case n > limit:
		f.t.Errorf("fake Telegram: %s of %d characters refused", method, n)
		fail(w, http.StatusBadRequest, "Bad Request: message is too long")
		return
	}
	if rm := p["reply_markup"]; rm != "" {
		var markup struct {
			InlineKeyboard [][]button `json:"inline_keyboard"`
		}
		if err := json.Unmarshal([]byte(rm), &markup); err != nil {
			fail(w, http.StatusBadRequest, "Bad Request: can't parse reply keyboard markup JSON object")
			return
		}
		for _, r := range markup.InlineKeyboard {
			for _, b := range r {
				if b.Data == "" && b.URL == "" || len(b.Data) > 64 {
					f.t.Errorf("fake Telegram: button %+v refused", b)
					fail(w, http.StatusBadRequest, "Bad Request: BUTTON_DATA_INVALID")
					return
				}
			}
		}
		s.Buttons = markup.InlineKeyboard
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if method == "editMessageText" {
		id, _ := strconv.Atoi(p["message_id"])
		old, ok := f.messages[id]
		if !ok || old.ChatID != chat {
			fail(w, http.StatusBadRequest, "Bad Request: message to edit not found")
			return
		}
		if old.HTML == s.HTML && fmt.Sprint(old.Buttons) == fmt.Sprint(s.Buttons) {
			fail(w, http.StatusBadRequest, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
			return
		}
		s.MessageID = id
	} else {
		f.nextMsg++
		s.MessageID = f.nextMsg
	}
	f.messages[s.MessageID] = s
	f.sent = append(f.sent, s)
	f.changed.Broadcast()
	result := map[string]any{"message_id": s.MessageID, "date": time.Now().Unix(),
		"chat": map[string]any{"id": chat, "type": "private", "first_name": "Ann"},
		"from": map[string]any{"id": botUserID, "is_bot": true, "first_name": "OrderDesk Shop", "username": "orderdesk_shop_bot"}}
	if method == "sendPhoto" {
		result["photo"] = []map[string]any{{"file_id": fmt.Sprintf("photo-%d", s.MessageID), "file_unique_id": fmt.Sprintf("u%d", s.MessageID),
			"width": 320, "height": 320, "file_size": len(file)}}
		if text != "" {
			result["caption"] = text
		}
	} else {
		result["text"] = s.Text
	}
	if rm := p["reply_markup"]; rm != "" && len(s.Buttons) > 0 {
		result["reply_markup"] = json.RawMessage(rm)
	}
	reply(w, result)
}

// customer is a scripted Telegram user talking to the bot.
type customer struct {
	f     *fakeTelegram
	t     testing.TB
	id    int64
	first string
	seen  int // how many of the fake's sent messages this customer has read
}

func (f *fakeTelegram) customer(t testing.TB, id int64, first string) *customer {
	return &customer{f: f, t: t, id: id, first: first}
}

func (c *customer) user() map[string]any {
	return map[string]any{"id": c.id, "is_bot": false, "first_name": c.first, "language_code": "en"}
}

func (f *fakeTelegram) queue(build func(id int) map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.nextUpd
	f.nextUpd++
	u := build(id)
	u["update_id"] = id
	f.updates = append(f.updates, update{ID: id, JSON: u})
	f.changed.Broadcast()
}

// say sends a text message to the bot.
func (c *customer) say(text string) {
	c.f.mu.Lock()
	c.f.nextMsg++
	msgID := c.f.nextMsg
	c.f.mu.Unlock()
	c.f.queue(func(int) map[string]any {
		msg := map[string]any{"message_id": msgID, "date": time.Now().Unix(), "text": text, "from": c.user(),
			"chat": map[string]any{"id": c.id, "type": "private", "first_name": c.first}}
		if strings.HasPrefix(text, "/") {
			cmd, _, _ := strings.Cut(text, " ")
			msg["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": len(cmd)}}
		}
		return map[string]any{"message": msg}
	})
}

// sendSticker sends something that is not text.
func (c *customer) sendSticker() {
	c.f.queue(func(id int) map[string]any {
		return map[string]any{"message": map[string]any{"message_id": 90000 + id, "date": time.Now().Unix(), "from": c.user(),
			"chat":    map[string]any{"id": c.id, "type": "private", "first_name": c.first},
			"sticker": map[string]any{"file_id": "sticker-1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false}}}
	})
}

// press presses the button whose text contains label on message m (as it is now).
func (c *customer) press(m sent, label string) {
	c.t.Helper()
	c.f.mu.Lock()
	cur := c.f.messages[m.MessageID]
	c.f.mu.Unlock()
	var data string
	var labels []string
	for _, r := range cur.Buttons {
		for _, b := range r {
			labels = append(labels, b.Text)
			if data == "" && strings.Contains(b.Text, label) && b.Data != "" {
				data = b.Data
			}
		}
	}
	if data == "" {
		c.t.Fatalf("no button %q on message %d %q; buttons: %q", label, m.MessageID, cur.Text, labels)
	}
	c.f.queue(func(id int) map[string]any {
		qid := fmt.Sprintf("cq-%d", id)
		c.f.presses = append(c.f.presses, qid)
		msg := map[string]any{"message_id": cur.MessageID, "date": time.Now().Unix(),
			"chat": map[string]any{"id": c.id, "type": "private", "first_name": c.first},
			"from": map[string]any{"id": botUserID, "is_bot": true, "first_name": "OrderDesk Shop"}}
		if cur.Method == "sendPhoto" {
			msg["photo"] = []map[string]any{{"file_id": "p", "file_unique_id": "p", "width": 320, "height": 320}}
			msg["caption"] = cur.Text
		} else {
			msg["text"] = cur.Text
		}
		return map[string]any{"callback_query": map[string]any{"id": qid, "from": c.user(), "message": msg,
			"chat_instance": "ci-1", "data": data}}
	})
}

// expect waits for the next message to this customer whose text contains every part,
// skipping the others, and returns it.
func (c *customer) expect(parts ...string) sent {
	c.t.Helper()
	return c.expectWithin(20*time.Second, parts...)
}

// expectWithin is expect with a deadline of its own.
func (c *customer) expectWithin(d time.Duration, parts ...string) sent {
	c.t.Helper()
	m, ok := c.waitFor(d, func(s sent) bool { return containsAll(s.Text, parts) })
	if !ok {
		c.t.Fatalf("the bot sent no message with %q; it sent:\n%s", parts, c.transcript())
	}
	return m
}

// expectPhoto waits for the next photo to this customer.
func (c *customer) expectPhoto(parts ...string) sent {
	c.t.Helper()
	m, ok := c.waitFor(20*time.Second, func(s sent) bool { return s.Method == "sendPhoto" && containsAll(s.Text, parts) })
	if !ok {
		c.t.Fatalf("the bot sent no photo with %q; it sent:\n%s", parts, c.transcript())
	}
	return m
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func (c *customer) waitFor(d time.Duration, match func(sent) bool) (sent, bool) {
	deadline := time.Now().Add(d)
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	for {
		for i := c.seen; i < len(c.f.sent); i++ {
			if s := c.f.sent[i]; s.ChatID == c.id && match(s) {
				c.seen = i + 1
				return s, true
			}
		}
		if time.Now().After(deadline) {
			return sent{}, false
		}
		c.f.changed.Wait()
	}
}

// quiet checks that the bot sends this customer nothing more within d.
func (c *customer) quiet(d time.Duration) {
	c.t.Helper()
	if m, ok := c.waitFor(d, func(sent) bool { return true }); ok {
		c.t.Fatalf("the bot sent an unexpected %s: %q", m.Method, m.Text)
	}
}

// transcript is what the bot sent this customer, for failure messages.
func (c *customer) transcript() string {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	var sb strings.Builder
	for i, s := range c.f.sent {
		if s.ChatID != c.id {
			continue
		}
		mark := " "
		if i < c.seen {
			mark = "✓"
		}
		fmt.Fprintf(&sb, "%s %s #%d: %q %v\n", mark, s.Method, s.MessageID, s.Text, s.Buttons)
	}
	return sb.String()
}

// unanswered lists the button presses the bot never answered.
func (f *fakeTelegram) unanswered() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, q := range f.presses {
		if !f.answered[q] {
			out = append(out, q)
		}
	}
	return out
}
