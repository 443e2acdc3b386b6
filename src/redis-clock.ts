/**
 * The start of a Lua script that works on Redis's own clock: `now`, in ms since the epoch, the same
 * for every process of a fleet whatever their clocks say.
 */
export const LUA_NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
