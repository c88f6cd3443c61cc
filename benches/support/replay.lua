-- wrk replays prepared requests: thread t sends the requests of the file `<prefix>.<t>` (each
-- one a complete HTTP/1.1 request, ended by a NUL byte) once each, in order, then stops when
-- the last has been answered. It prints `replay: started` at its first request and
-- `replay: done` after its last answer, so that the caller can time the run (wrk itself runs
-- for its whole `-d` duration, whenever its threads stop). Requests asked for past the end
-- (one per other connection of the thread) are `GET /livez`, which changes nothing; its
-- answer, `ok`, is not counted.
local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  local file = assert(io.open(args[1] .. "." .. thread_index, "rb"))
  local data = file:read("*a")
  file:close()
  prepared = {}
  for request in string.gmatch(data, "([^%z]+)%z") do
    prepared[#prepared + 1] = request
  end
  sent = 0
  answered = 0
  idle = wrk.format("GET", "/livez")
  -- wrk calls the first thread's request() once before the run, to check what it returns,
  -- and never sends that request.
  checked = thread_index ~= 0
end

function request()
  if not checked then
    checked = true
    return idle
  end
  sent = sent + 1
  if sent == 1 then
    io.stdout:write("replay: started\n")
    io.stdout:flush()
  end
  if sent > #prepared then
    return idle
  end
  return prepared[sent]
end

function response(status, headers, body)
  if body == "ok" then
    return
  end
  answered = answered + 1
  if answered == #prepared then
    io.stdout:write("replay: done\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
end
