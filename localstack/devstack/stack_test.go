package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/xborder/xborder/localstack/services"
	"github.com/xborder/xborder/shared/auth"
)

// TestUpServesAndPersists runs `make dev`'s stack on free ports: it serves the
// API, stops cleanly when cancelled, and starts again with the orders kept.
func TestUpServesAndPersists(t *testing.T) {
	tools, _ := filepath.Abs("../../.tools")
	data := t.TempDir()
	apiPort, _ := services.FreePort()
	ddbPort, _ := services.FreePort()
	sqsPort, _ := services.FreePort()
	sfnPort, _ := services.FreePort()
	api := "127.0.0.1:" + strconv.Itoa(apiPort)
	args := []string{"-tools", tools, "-data", data, "-api", api, "-dynamodb-port", strconv.Itoa(ddbPort),
		"-sqs-port", strconv.Itoa(sqsPort), "-sfn", "127.0.0.1:" + strconv.Itoa(sfnPort), "-repo", "../.."}
	tok, _ := auth.MintLocal(auth.DevSecret, "dev-test", nil, time.Hour, time.Now())

	start := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- up(ctx, args) }()
		deadline := time.Now().Add(90 * time.Second)
		for {
			resp, err := http.Get("http://" + api + "/v1/orders")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("GET without a token: %d, want 401", resp.StatusCode)
				}
				break
			}
			select {
			case err := <-done:
				t.Fatalf("stack ended before serving: %v", err)
			default:
			}
			if time.Now().After(deadline) {
				cancel()
				t.Fatal("API did not come up")
			}
			time.Sleep(100 * time.Millisecond)
		}
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("stack did not stop cleanly: %v", err)
			}
			for _, addr := range []string{api, "127.0.0.1:" + strconv.Itoa(ddbPort), "127.0.0.1:" + strconv.Itoa(sqsPort), "127.0.0.1:" + strconv.Itoa(sfnPort)} {
				l, err := net.Listen("tcp", addr)
				if err != nil {
					t.Fatalf("%s still taken after stop: %v", addr, err)
				}
				l.Close()
			}
		}
	}

	stop := start()
	body, err := os.ReadFile("../../events/orders/mobile-b2c-de.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+api+"/v1/orders", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "devstack-test-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ OrderID string }
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || created.OrderID == "" {
		t.Fatalf("POST: %d %+v", resp.StatusCode, created)
	}
	// Stop while the order waits for China's customs (it ships from China):
	// the answers must survive the restart.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v1/orders/%s", api, created.OrderID), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var o struct {
			Status  string
			Customs struct{ AwaitingChina bool }
		}
		_ = json.NewDecoder(resp.Body).Decode(&o)
		resp.Body.Close()
		if o.Customs.AwaitingChina || o.Status == "DISPATCHED" {
			break
		}
	}
	stop()

	stop = start()
	defer stop()
	req, _ = http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v1/orders/%s", api, created.OrderID), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Status string }
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("order after restart: %d, want 200 (state must persist)", resp.StatusCode)
	}
	if got.Status != "DISPATCHED" {
		// It may still be on its way: the workflow runs in the background.
		for deadline := time.Now().Add(30 * time.Second); got.Status != "DISPATCHED" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
		}
		if got.Status != "DISPATCHED" {
			t.Fatalf("the order did not go through the workflow: %s", got.Status)
		}
	}
}

func TestToken(t *testing.T) {
	var out bytes.Buffer
	if err := token([]string{"-sub", "alice", "-groups", "ops"}, &out); err != nil {
		t.Fatal(err)
	}
	l, _ := auth.NewLocalHS256(auth.DevSecret)
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+string(bytes.TrimSpace(out.Bytes())))
	id, err := l.Authenticate(r)
	if err != nil || id.Subject != "alice" || !id.InGroup("ops") {
		t.Fatalf("minted token: %+v %v", id, err)
	}
}
