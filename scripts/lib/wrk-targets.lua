-- wrk script of scripts/bench-pages: each request carries a signed-in user's session cookie and
-- goes to that user's path. Arguments after `--`: the targets file (`cookie<TAB>path` lines)
-- and the number of wrk threads. Thread n takes the lines whose index modulo the thread count
-- is n, and cycles through them.

local next_thread = 0

function setup(thread)
    thread:set("thread_index", next_thread)
    next_thread = next_thread + 1
end

function init(args)
    local file, thread_count = args[1], tonumber(args[2])
    targets = {}
    local line_index = 0
    for line in io.lines(file) do
        local cookie, path = line:match("^([^\t]+)\t(.+)$")
        if cookie and line_index % thread_count == thread_index then
            targets[#targets + 1] = wrk.format("GET", path, { ["Cookie"] = "nurture_session=" .. cookie })
        end
        line_index = line_index + 1
    end
    if #targets == 0 then
        error("no targets for thread " .. thread_index .. " in " .. file)
    end
    position = 0
end

function request()
    position = position % #targets + 1
    return targets[position]
end
