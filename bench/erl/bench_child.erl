%% The supervised server of the suprestart workload: tells the driver it is up from init (the
%% anchors' "mode 1") and answers `ping` with its own pid.
-module(bench_child).
-behaviour(gen_server).

-export([start_link/1, init/1, handle_call/3, handle_cast/2]).

start_link(Driver) -> gen_server:start_link(?MODULE, Driver, []).

init(Driver) ->
    Driver ! {child_up, self()},
    {ok, Driver}.

handle_call(ping, _From, S) -> {reply, {pong, self()}, S}.
handle_cast(_, S) -> {noreply, S}.
