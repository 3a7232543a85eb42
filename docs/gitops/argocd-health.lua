-- Argo CD health check for tracing.tracejob.dev/TraceJob.
-- Pending/Running, no status yet, or a status of an older generation
-- (the operator has not seen the latest spec) -> Progressing;
-- Succeeded -> Healthy; Failed -> Degraded with status.message.
-- Lua 5.1 compatible (Argo CD runs gopher-lua).
local hs = {}
local status = obj.status
local generation = 0
if obj.metadata ~= nil and obj.metadata.generation ~= nil then
  generation = obj.metadata.generation
end

if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the tracejob operator to accept the TraceJob"
  return hs
end

if status.observedGeneration == nil or status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the tracejob operator to observe generation " .. tostring(generation)
  return hs
end

local function conditionMessage(kind)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == kind and c.status == "True" then
      if c.message ~= nil and c.message ~= "" then
        return c.reason .. ": " .. c.message
      end
      return c.reason
    end
  end
  return nil
end

local phase = status.phase
if phase == "Succeeded" then
  hs.status = "Healthy"
  if status.summary ~= nil and status.summary.headline ~= nil and status.summary.headline ~= "" then
    hs.message = status.summary.headline
  elseif status.message ~= nil then
    hs.message = status.message
  else
    hs.message = "Trace finished"
  end
elseif phase == "Failed" then
  hs.status = "Degraded"
  if status.message ~= nil and status.message ~= "" then
    hs.message = status.message
  else
    hs.message = conditionMessage("Failed") or "TraceJob failed"
  end
else
  hs.status = "Progressing"
  local step = conditionMessage("Attached") or conditionMessage("NodeJobCreated") or conditionMessage("TargetResolved") or conditionMessage("Accepted")
  if step ~= nil then
    hs.message = (phase or "Pending") .. " (" .. step .. ")"
  else
    hs.message = phase or "Pending"
  end
end
return hs
