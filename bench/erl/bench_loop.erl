%% The suploop workload: a permanent child under one_for_one that fails as soon as it starts,
%% restarted again and again; the (N+1)-th start spawns a child that stays up and tells the
%% driver. Starts are counted in an `atomics` array shared with the driver. Intensity as in
%% bench_sup: 1,000,000 restarts in 1 s, which no run reaches.
-module(bench_loop).
-behaviour(supervisor).

-export([start_link/3, init/1, start_child/3]).

start_link(Driver, Counter, Restarts) ->
    supervisor:start_link(?MODULE, {Driver, Counter, Restarts}).

init({Driver, Counter, Restarts}) ->
    {ok, {#{strategy => one_for_one, intensity => 1000000, period => 1},
          [#{id => child, start => {?MODULE, start_child, [Driver, Counter, Restarts]},
             restart => permanent, shutdown => brutal_kill, type => worker}]}}.

start_child(Driver, Counter, Restarts) ->
    N = atomics:add_get(Counter, 1, 1),
    Pid = case N > Restarts of
              true ->
                  Driver ! {loop_done, N},
                  spawn_link(fun() -> receive stop -> ok end end);
              false ->
                  spawn_link(fun() -> exit(crash) end)
          end,
    {ok, Pid}.
