-- POST a random JSON body from $BODIES_FILE (one JSON document per line) to $POST_PATH.
local common = dofile(os.getenv("LUA_DIR") .. "/common.lua")

local reqs

function setup(thread) common.setup(thread) end

function init(args)
  math.randomseed(tonumber(os.getenv("SEED") or "1") * 1000 + thread_index)
  local headers = common.headers({ ["Content-Type"] = "application/json; charset=utf-8" })
  local path = os.getenv("POST_PATH") or "/api/v1/tickets"
  reqs = {}
  for _, body in ipairs(common.read_lines(os.getenv("BODIES_FILE"))) do
    reqs[#reqs + 1] = wrk.format("POST", path, headers, body)
  end
end

function request() return reqs[math.random(#reqs)] end

response = common.response
done = common.done
