%% The supervisor of the suprestart workload: one permanent bench_child under one_for_one,
%% with an intensity no run reaches: 1,000,000 restarts in 1 s, as in the anchors and in
%% bench/src/beamish_sys.rs. (OTP keeps the restarts of the last period in a list, so a long
%% period makes each restart dearer as the run goes on.)
-module(bench_sup).
-behaviour(supervisor).

-export([start_link/1, init/1]).

start_link(Driver) -> supervisor:start_link(?MODULE, Driver).

init(Driver) ->
    {ok, {#{strategy => one_for_one, intensity => 1000000, period => 1},
          [#{id => child, start => {bench_child, start_link, [Driver]},
             restart => permanent, shutdown => 1000, type => worker}]}}.
