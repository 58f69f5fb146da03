package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ordersScript is wrk's Lua script for placing orders: each request a new
// Idempotency-Key, 1–3 distinct products picked at random with quantities 1–3, one
// of 500 identities; responses counted by status in each thread and summed at the end.
const ordersScript = `
local products = {%s}
local method = "%s"
local auth = "Bearer %s"
local seq = 0
created, soldout, servererrors, other = 0, 0, 0, 0
local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(tid * 7919 + os.time())
end

function request()
  seq = seq + 1
  local n = math.random(1, 3)
  local seen, items = {}, {}
  for i = 1, n do
    local p
    repeat p = math.random(1, #products) until not seen[p]
    seen[p] = true
    items[i] = string.format('{"productId":"%%s","quantity":%%d}', products[p], math.random(1, 3))
  end
  local body = '{"items":[' .. table.concat(items, ",") .. '],"shippingMethodId":"' .. method ..
    '","shippingAddress":{"name":"Bench Customer","line1":"1 High Street","city":"York","postcode":"YO1 7HH","countryCode":"GB"}}'
  return wrk.format("POST", "/api/v1/orders", {
    ["Authorization"] = auth, ["Content-Type"] = "application/json",
    ["X-Identity-Reference"] = "bench:" .. (seq %% 500),
    ["Idempotency-Key"] = "bench-" .. tid .. "-" .. seq}, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1
  elseif status == 409 then soldout = soldout + 1
  elseif status >= 500 then servererrors = servererrors + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local c, s, e, o = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); s = s + t:get("soldout"); e = e + t:get("servererrors"); o = o + t:get("other")
  end
  io.write(string.format("orders-wrk created=%%d soldout=%%d servererrors=%%d other=%%d socketerrors=%%d p99us=%%d\n",
    c, s, e, o, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(99)))
end
`

var ordersWrkLine = regexp.MustCompile(`orders-wrk created=(\d+) soldout=(\d+) servererrors=(\d+) other=(\d+) socketerrors=(\d+) p99us=(\d+)`)

// wrkOrders places orders with wrk for d from conns connections. ok is false when wrk
// is not installed. The p99 is wrk's, over every answer (a 409 for stock too).
func wrkOrders(conns int, d time.Duration, base, apiKey string, products []string, method string) (r result, created, soldOut, serverErrors int64, ok bool, err error) {
	path, lerr := exec.LookPath("wrk")
	if lerr != nil {
		return result{}, 0, 0, 0, false, nil
	}
	dir, err := os.MkdirTemp("", "orderdesk-bench-wrk")
	if err != nil {
		return result{}, 0, 0, 0, true, err
	}
	defer os.RemoveAll(dir)
	quoted := make([]string, len(products))
	for i, p := range products {
		quoted[i] = strconv.Quote(p)
	}
	script := filepath.Join(dir, "orders.lua")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(ordersScript, strings.Join(quoted, ","), method, apiKey)), 0o600); err != nil {
		return result{}, 0, 0, 0, true, err
	}
	out, err := exec.Command(path, "-t2", "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(int(d.Seconds()))+"s", "--timeout", "10s",
		"-s", script, base).CombinedOutput()
	if err != nil {
		return result{}, 0, 0, 0, true, fmt.Errorf("wrk: %v: %s", err, out)
	}
	m := ordersWrkLine.FindSubmatch(out)
	if m == nil {
		return result{}, 0, 0, 0, true, fmt.Errorf("wrk printed no summary: %s", out)
	}
	n := make([]int64, 6)
	for i := range n {
		n[i], _ = strconv.ParseInt(string(m[i+1]), 10, 64)
	}
	r = result{count: n[0], errors: n[2] + n[3] + n[4], duration: d, p99: time.Duration(n[5]) * time.Microsecond}
	return r, n[0], n[1], n[2], true, nil
}
