package chdb

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

// Opaque handles, as declared by chdb.h (chdb-core, 26.x).
typedef struct chdb_result_ { void *internal_data; } chdb_result;
typedef struct chdb_connection_ { void *internal_data; } *chdb_connection;
typedef struct chdb_insert_stream_ { void *internal_data; } *chdb_insert_stream;

// custody_chdb_api holds the resolved entry points of one loaded library.
typedef struct {
	void *handle;
	void (*set_signal_handlers_enabled)(int);
	chdb_connection *(*connect)(int, char **);
	void (*close_conn)(chdb_connection *);
	chdb_result *(*query_n)(chdb_connection, const char *, size_t, const char *, size_t);
	chdb_result *(*query_with_params_n)(chdb_connection, const char *, size_t, const char *, size_t,
		const char *const *, const size_t *, const char *const *, const size_t *, size_t);
	void (*destroy_query_result)(chdb_result *);
	char *(*result_buffer)(chdb_result *);
	size_t (*result_length)(chdb_result *);
	const char *(*result_error)(chdb_result *);
	uint64_t (*result_rows_written)(chdb_result *);
	chdb_insert_stream (*stream_insert_n)(chdb_connection, const char *, size_t, const char *, size_t);
	int (*stream_append)(chdb_insert_stream, const void *, size_t);
	chdb_result *(*stream_done)(chdb_insert_stream);
	const char *(*stream_insert_error)(chdb_insert_stream);
	void (*destroy_insert_stream)(chdb_insert_stream);
	const char *(*version)(void);
} custody_chdb_api;

#define CUSTODY_SYM(field, name) \
	api->field = dlsym(h, name); \
	if (api->field == NULL) { *missing = name; free(api); return NULL; }

// custody_chdb_load dlopens path and resolves every symbol Custody uses. On
// failure it returns NULL and sets *err (dlerror text) or *missing (symbol).
static custody_chdb_api *custody_chdb_load(const char *path, const char **err, const char **missing) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) { *err = dlerror(); return NULL; }
	custody_chdb_api *api = calloc(1, sizeof(custody_chdb_api));
	api->handle = h;
	CUSTODY_SYM(set_signal_handlers_enabled, "chdb_set_signal_handlers_enabled")
	CUSTODY_SYM(connect, "chdb_connect")
	CUSTODY_SYM(close_conn, "chdb_close_conn")
	CUSTODY_SYM(query_n, "chdb_query_n")
	CUSTODY_SYM(query_with_params_n, "chdb_query_with_params_n")
	CUSTODY_SYM(destroy_query_result, "chdb_destroy_query_result")
	CUSTODY_SYM(result_buffer, "chdb_result_buffer")
	CUSTODY_SYM(result_length, "chdb_result_length")
	CUSTODY_SYM(result_error, "chdb_result_error")
	CUSTODY_SYM(result_rows_written, "chdb_result_rows_written")
	CUSTODY_SYM(stream_insert_n, "chdb_stream_insert_n")
	CUSTODY_SYM(stream_append, "chdb_stream_append")
	CUSTODY_SYM(stream_done, "chdb_stream_done")
	CUSTODY_SYM(stream_insert_error, "chdb_stream_insert_error")
	CUSTODY_SYM(destroy_insert_stream, "chdb_destroy_insert_stream")
	CUSTODY_SYM(version, "chdb_version")
	return api;
}

static void custody_chdb_disable_signals(custody_chdb_api *api) { api->set_signal_handlers_enabled(0); }
static const char *custody_chdb_version(custody_chdb_api *api) { return api->version(); }

// custody_chdb_connect passes "clickhouse --path=<path>" plus extra
// arguments, packed by Go into one NUL-separated buffer of argc strings.
static chdb_connection *custody_chdb_connect(custody_chdb_api *api, char *args, int argc) {
	char **argv = calloc(argc, sizeof(char *));
	char *p = args;
	for (int i = 0; i < argc; i++) { argv[i] = p; p += strlen(p) + 1; }
	chdb_connection *conn = api->connect(argc, argv);
	free(argv);
	return conn;
}

static void custody_chdb_close(custody_chdb_api *api, chdb_connection *conn) { api->close_conn(conn); }

// custody_result is what a finished statement leaves for Go to copy: the
// output bytes or an error message, owned by res until destroyed.
typedef struct {
	chdb_result *res;
	const char *error;
	char *buf;
	size_t len;
	uint64_t rows_written;
} custody_result;

static custody_result custody_chdb_finish(custody_chdb_api *api, chdb_result *res) {
	custody_result out = {0};
	out.res = res;
	if (res == NULL) { out.error = "chdb returned no result"; return out; }
	out.error = api->result_error(res);
	if (out.error != NULL && out.error[0] == '\0') out.error = NULL;
	if (out.error == NULL) {
		out.buf = api->result_buffer(res);
		out.len = api->result_length(res);
		out.rows_written = api->result_rows_written(res);
	}
	return out;
}

// custody_chdb_query runs one statement. Parameter names and values arrive
// packed in one buffer with 2*count lengths (names first, then values), so
// Go passes no memory that holds Go pointers.
static custody_result custody_chdb_query(custody_chdb_api *api, chdb_connection *conn,
		const char *q, size_t qlen, const char *fmt, size_t flen,
		const char *packed, const size_t *lens, size_t count) {
	chdb_result *res;
	if (count == 0) {
		res = api->query_n(*conn, q, qlen, fmt, flen);
	} else {
		const char **names = calloc(count, sizeof(char *));
		const char **values = calloc(count, sizeof(char *));
		const char *p = packed;
		for (size_t i = 0; i < count; i++) { names[i] = p; p += lens[i]; }
		for (size_t i = 0; i < count; i++) { values[i] = p; p += lens[count + i]; }
		res = api->query_with_params_n(*conn, q, qlen, fmt, flen, names, lens, values, lens + count, count);
		free(names);
		free(values);
	}
	return custody_chdb_finish(api, res);
}

// custody_chdb_insert streams data (already in the named input format) into
// an INSERT statement and commits it: one call, one crossing into C.
static custody_result custody_chdb_insert(custody_chdb_api *api, chdb_connection *conn,
		const char *q, size_t qlen, const char *fmt, size_t flen, const void *data, size_t dlen,
		char **stream_error) {
	custody_result out = {0};
	chdb_insert_stream st = api->stream_insert_n(*conn, q, qlen, fmt, flen);
	const char *e = api->stream_insert_error(st);
	if (e == NULL && dlen > 0 && api->stream_append(st, data, dlen) != 0) {
		e = api->stream_insert_error(st);
		if (e == NULL) e = "append to insert stream failed";
	}
	if (e != NULL) {
		*stream_error = strdup(e);
		api->destroy_insert_stream(st);
		return out;
	}
	out = custody_chdb_finish(api, api->stream_done(st));
	if (out.error != NULL) {
		*stream_error = strdup(out.error);
		out.error = NULL;
		if (out.res != NULL) api->destroy_query_result(out.res);
		out.res = NULL;
	}
	api->destroy_insert_stream(st);
	return out;
}

static void custody_chdb_destroy(custody_chdb_api *api, chdb_result *res) {
	if (res != NULL) api->destroy_query_result(res);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// api is one loaded libchdb.so.
type api struct {
	c *C.custody_chdb_api
}

func loadAPI(path string) (*api, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr, missing *C.char
	a := C.custody_chdb_load(cpath, &cerr, &missing)
	if a == nil {
		if missing != nil {
			return nil, fmt.Errorf("%s lacks symbol %s: this chDB is too old or not chDB; install the pinned version with `make deps`", path, C.GoString(missing))
		}
		return nil, fmt.Errorf("dlopen %s: %s", path, C.GoString(cerr))
	}
	return &api{c: a}, nil
}

func (a *api) disableSignalHandlers() { C.custody_chdb_disable_signals(a.c) }

func (a *api) version() string { return C.GoString(C.custody_chdb_version(a.c)) }

// conn is one chdb_connection*; it runs one statement at a time.
type conn struct {
	a *api
	c *C.chdb_connection
}

func (a *api) connect(args []string) (*conn, error) {
	var packed []byte
	for _, s := range args {
		packed = append(packed, s...)
		packed = append(packed, 0)
	}
	cargs := C.CBytes(packed)
	defer C.free(cargs)
	c := C.custody_chdb_connect(a.c, (*C.char)(cargs), C.int(len(args)))
	if c == nil {
		return nil, errors.New("chdb_connect returned NULL")
	}
	return &conn{a: a, c: c}, nil
}

func (c *conn) close() { C.custody_chdb_close(c.a.c, c.c) }

// Output is what one statement returned.
type Output struct {
	Data        []byte
	RowsWritten uint64
}

func (c *conn) query(query, format string, names, values []string) (Output, error) {
	if len(names) != len(values) {
		return Output{}, fmt.Errorf("chdb: %d parameter names for %d values", len(names), len(values))
	}
	var packed []byte
	lens := make([]C.size_t, 0, 2*len(names)+1)
	for _, group := range [][]string{names, values} {
		for _, s := range group {
			packed = append(packed, s...)
			lens = append(lens, C.size_t(len(s)))
		}
	}
	packed = append(packed, 0) // never an empty slice, so &packed[0] is valid
	lens = append(lens, 0)
	q, f := []byte(query+"\x00"), []byte(format+"\x00")
	r := C.custody_chdb_query(c.a.c, c.c,
		(*C.char)(unsafe.Pointer(&q[0])), C.size_t(len(query)),
		(*C.char)(unsafe.Pointer(&f[0])), C.size_t(len(format)),
		(*C.char)(unsafe.Pointer(&packed[0])), &lens[0], C.size_t(len(names)))
	return c.take(r)
}

func (c *conn) insert(query, format string, data []byte) (Output, error) {
	q, f := []byte(query+"\x00"), []byte(format+"\x00")
	d := data
	if len(d) == 0 {
		d = []byte{0} // a valid pointer; the length passed is still 0
	}
	var streamErr *C.char
	r := C.custody_chdb_insert(c.a.c, c.c,
		(*C.char)(unsafe.Pointer(&q[0])), C.size_t(len(query)),
		(*C.char)(unsafe.Pointer(&f[0])), C.size_t(len(format)),
		unsafe.Pointer(&d[0]), C.size_t(len(data)), &streamErr)
	if streamErr != nil {
		defer C.free(unsafe.Pointer(streamErr))
		return Output{}, &EngineError{Message: C.GoString(streamErr)}
	}
	return c.take(r)
}

// take copies a result into Go memory and destroys it.
func (c *conn) take(r C.custody_result) (Output, error) {
	defer C.custody_chdb_destroy(c.a.c, r.res)
	if r.error != nil {
		return Output{}, &EngineError{Message: C.GoString(r.error)}
	}
	out := Output{RowsWritten: uint64(r.rows_written)}
	if r.len > 0 {
		out.Data = C.GoBytes(unsafe.Pointer(r.buf), C.int(r.len))
	}
	return out, nil
}
