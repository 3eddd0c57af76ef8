// send(socketPath, state): one datagram with `state` to the AF_UNIX datagram socket at socketPath
// ("/run/systemd/notify", or "@name" for an abstract name), as sd_notify(3) does. Returns 0 when
// sent, else the errno of the step that failed (EINVAL for a path that is neither).
#include <errno.h>
#include <node_api.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_STATE 4096

static int send_state(const char *path, size_t path_length, const char *state, size_t state_length) {
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (path_length == 0 || (path[0] != '/' && path[0] != '@')) return EINVAL;
  if (path_length > sizeof address.sun_path) return ENAMETOOLONG;
  memcpy(address.sun_path, path, path_length);
  if (path[0] == '@') address.sun_path[0] = '\0';
  socklen_t address_length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_length);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  ssize_t sent = sendto(fd, state, state_length, MSG_NOSIGNAL, (struct sockaddr *)&address, address_length);
  int error = sent < 0 ? errno : 0;
  close(fd);
  return error;
}

static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "send(socketPath, state) takes two strings");
    return NULL;
  }
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 2];
  char state[MAX_STATE + 1];
  size_t path_length = 0, state_length = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_length) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], state, sizeof state, &state_length) != napi_ok) {
    napi_throw_type_error(env, NULL, "send(socketPath, state) takes two strings");
    return NULL;
  }
  // A truncated copy fills the buffer: refuse it rather than send part of a path or a state.
  int error = path_length >= sizeof path - 1 ? ENAMETOOLONG : state_length >= MAX_STATE ? EMSGSIZE : send_state(path, path_length, state, state_length);
  napi_value result;
  napi_create_int32(env, error, &result);
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value send;
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, Send, NULL, &send);
  napi_set_named_property(env, exports, "send", send);
  return exports;
}

NAPI_MODULE_INIT() { return Init(env, exports); }
