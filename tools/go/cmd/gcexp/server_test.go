package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServer(t *testing.T) {
	srv := httptest.NewServer((&server{}).routes())
	defer srv.Close()

	for _, tc := range []struct {
		path, want string
	}{
		{"/add?bytes=1048576", `{"added":1048576,"retained":1048576}`},
		{"/add?bytes=2MiB", `{"added":2097152,"retained":3145728}`},
		// Whole slabs, newest first: asking for 1 byte frees the 2 MiB one.
		{"/rel?bytes=1", `{"released":2097152,"retained":1048576}`},
		{"/reset", `{"released":1048576,"retained":0}`},
		{"/rel?bytes=5", `{"released":0,"retained":0}`},
	} {
		code, body := get(t, srv, tc.path)
		if code != 200 || strings.TrimSpace(body) != tc.want {
			t.Errorf("%s: %d %s; want 200 %s", tc.path, code, body, tc.want)
		}
	}

	for _, path := range []string{"/stats", "/gc"} {
		code, body := get(t, srv, path)
		var st map[string]interface{}
		if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
			t.Fatalf("%s: %d %q", path, code, body)
		}
		for _, k := range []string{"HeapAlloc", "HeapSys", "HeapIdle", "HeapReleased", "NumGC", "NextGC", "Sys", "MemoryLimit", "Retained"} {
			if _, ok := st[k]; !ok {
				t.Errorf("%s lacks %s: %s", path, k, body)
			}
		}
	}

	for _, path := range []string{"/add", "/add?bytes=", "/add?bytes=abc", "/add?bytes=-5", "/add?bytes=0", "/rel?bytes=1.5", "/add?bytes=2T"} {
		code, body := get(t, srv, path)
		if code != http.StatusBadRequest || !strings.Contains(body, "bytes") {
			t.Errorf("%s: %d %q; want 400 naming bytes", path, code, body)
		}
	}
}
