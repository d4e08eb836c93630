-- GET a random path from $PATHS_FILE (one path per line), with $AUTH.
local common = dofile(os.getenv("LUA_DIR") .. "/common.lua")

local reqs

function setup(thread) common.setup(thread) end

function init(args)
  math.randomseed(tonumber(os.getenv("SEED") or "1") * 1000 + thread_index)
  local headers = common.headers()
  reqs = {}
  for _, path in ipairs(common.read_lines(os.getenv("PATHS_FILE"))) do
    reqs[#reqs + 1] = wrk.format("GET", path, headers)
  end
end

function request() return reqs[math.random(#reqs)] end

response = common.response
done = common.done
