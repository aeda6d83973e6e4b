%% The beamish benchmark workloads on the BEAM, defined as in bench/src/common.rs.
%%
%% Usage: erl -noshell [+P 5000000] -pa DIR -run beamish_bench main WORKLOAD [ARGS...]
%%   spawn N | pingpong N | ring NODES HOPS | skynet [LEAVES] | call CALLERS TOTAL
%%   | fanout SUBS MSGS | suprestart KILLS | suploop RESTARTS | pubsub SUBS MSGS
%%   | fairness HOGS | timers N | chat CLIENTS ROOMS BURST RATE LOADER
%%   (chat's LOADER is the path of beamish-bench, whose `chatload` subcommand loads the server)
%%
%% Prints one line "RESULT\tbeam\tWORKLOAD\tkey=value...", ending in "check=ok" when the
%% workload verified its own result, or "check=FAILED\tdetail=..." (exit status 1) when not.
-module(beamish_bench).
-behaviour(gen_server).

-export([main/1]).
-export([init/1, handle_call/3, handle_cast/2]).

-define(SKYNET_LEAVES, 1000000).

main(["chat" | Args]) ->
    %% The last argument is the loader's path, not a number.
    {Sizes, [Loader]} = lists:split(length(Args) - 1, Args),
    report("chat", fun() -> bench_chat:run([list_to_integer(A) || A <- Sizes], Loader) end);
main([Workload | Args]) ->
    Nums = [list_to_integer(lists:flatten(string:replace(A, "_", "", all))) || A <- Args],
    report(Workload, fun() -> run(Workload, Nums) end).

%% Runs the workload in a fresh driver process (so the shell's own state is not part of any
%% figure), prints its line and halts.
report(Workload, Run) ->
    Main = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Main ! {outcome, Run()} end),
    receive
        {outcome, {Fields, Failures}} ->
            io:put_chars(line(Workload, Fields, Failures)),
            halt(case Failures of [] -> 0; _ -> 1 end);
        {'DOWN', Ref, process, Pid, Reason} ->
            io:format(standard_error, "beamish_bench: driver crashed: ~p~n", [Reason]),
            halt(2)
    end.

%% ---- result line ----

line(Workload, Fields, Failures) ->
    Kvs = [["\t", K, "=", V] || {K, V} <- Fields],
    Check = case Failures of
                [] -> "\tcheck=ok";
                _ -> ["\tcheck=FAILED\tdetail=", lists:join("; ", Failures)]
            end,
    lists:flatten(["RESULT\tbeam\t", Workload, Kvs, Check, "\n"]).

%% Collects the failures of a list of {Ok, Detail} checks.
failures(Checks) -> [lists:flatten(D) || {false, D} <- Checks].

int(X) -> integer_to_list(X).
dec1(X) -> float_to_list(float(X), [{decimals, 1}]).
dec0(X) -> integer_to_list(round(X)).
fmt(F, A) -> lists:flatten(io_lib:format(F, A)).

now_ns() -> erlang:monotonic_time(nanosecond).

%% Resident set size from /proc/self/statm (pages of 4 KiB on the machines we run on).
rss_bytes() ->
    {ok, Statm} = file:read_file("/proc/self/statm"),
    [_Size, Resident | _] = string:lexemes(binary_to_list(Statm), " \n"),
    list_to_integer(Resident) * 4096.

%% ---- counting: the actor that brings a shared counter to N tells the driver ----

count_up(Counter, N, Driver, Msg) ->
    case atomics:add_get(Counter, 1, 1) of
        N -> Driver ! Msg;
        _ -> ok
    end.

%% ---- spawn N ----

run("spawn", [N]) ->
    Driver = self(),
    Started = atomics:new(1, []),
    Stopped = atomics:new(1, []),
    erlang:garbage_collect(),
    Mem0 = erlang:memory(processes),
    Rss0 = rss_bytes(),
    T0 = now_ns(),
    Pids = spawn_idle(N, N, Started, Stopped, Driver, []),
    Loop = now_ns() - T0,
    receive all_started -> ok end,
    AllStarted = now_ns() - T0,
    Mem1 = erlang:memory(processes),
    Rss1 = rss_bytes(),
    T1 = now_ns(),
    lists:foreach(fun(P) -> P ! stop end, Pids),
    receive all_stopped -> ok end,
    AllStopped = now_ns() - T1,
    S = atomics:get(Started, 1),
    D = atomics:get(Stopped, 1),
    {[{"n", int(N)},
      {"ns_per", dec1(AllStarted / N)},
      {"rss_bytes_per", dec1((Rss1 - Rss0) / N)},
      {"loop_ns_per", dec1(Loop / N)},
      {"stop_ns_per", dec1(AllStopped / N)},
      {"procmem_bytes_per", dec1((Mem1 - Mem0) / N)}],
     failures([{S =:= N andalso D =:= N,
                fmt("start/stop hooks ran ~b / ~b times for ~b actors", [S, D, N])}])};

%% ---- pingpong N ----

run("pingpong", [N]) ->
    Driver = self(),
    Pong = spawn(fun() -> player(undefined, 0) end),
    Ping = spawn(fun() -> player(undefined, 0) end),
    Pong ! {peer, Ping},
    Ping ! {peer, Pong},
    T0 = now_ns(),
    Ping ! {serve, N, Driver},
    PingGot = receive {finished, G} -> G end,
    Elapsed = now_ns() - T0,
    Pong ! {received, self()},
    PongGot = receive {received, G2} -> G2 end,
    Ping ! stop,
    Pong ! stop,
    {[{"n", int(N)}, {"ns_per_rt", dec1(Elapsed / N)}],
     failures([{PingGot =:= N andalso PongGot =:= N,
                fmt("pinger received ~b, ponger received ~b, expected ~b each",
                    [PingGot, PongGot, N])}])};

%% ---- ring NODES HOPS ----

run("ring", [Nodes, Hops]) ->
    Driver = self(),
    Pids = [spawn(fun() -> ring_start(I, Driver) end) || I <- lists:seq(0, Nodes - 1)],
    [First | Rest] = Pids,
    lists:foreach(fun({P, Next}) -> P ! {next, Next} end, lists:zip(Pids, Rest ++ [First])),
    T0 = now_ns(),
    First ! {token, Hops},
    Last = receive {token_done, Idx} -> Idx end,
    Elapsed = now_ns() - T0,
    Handled = lists:sum([ask(P, handled) || P <- Pids]),
    lists:foreach(fun(P) -> P ! stop end, Pids),
    {[{"nodes", int(Nodes)}, {"hops", int(Hops)},
      {"msgs_per_s", dec0(Hops / (Elapsed / 1.0e9))}, {"ms", dec1(Elapsed / 1.0e6)}],
     failures([{Handled =:= Hops + 1,
                fmt("nodes handled ~b tokens, expected ~b (hops + the first send)",
                    [Handled, Hops + 1])},
               {Last =:= Hops rem Nodes,
                fmt("token ended at node ~b, expected node ~b", [Last, Hops rem Nodes])}])};

%% ---- skynet [LEAVES] ----

run("skynet", []) ->
    run("skynet", [?SKYNET_LEAVES]);
run("skynet", [Leaves]) ->
    Driver = self(),
    T0 = now_ns(),
    spawn(fun() -> sky(Driver, 0, Leaves) end),
    Sum = receive {sum, V} -> V end,
    Elapsed = now_ns() - T0,
    Want = Leaves * (Leaves - 1) div 2,
    {[{"leaves", int(Leaves)}, {"ms", dec1(Elapsed / 1.0e6)}, {"sum", int(Sum)}],
     failures([{Sum =:= Want, fmt("sum ~b != expected ~b", [Sum, Want])}])};

%% ---- call CALLERS TOTAL (gen_server:call to a counter) ----

run("call", [Callers, Total]) ->
    {ok, Server} = gen_server:start(?MODULE, [], []),
    Driver = self(),
    Per = Total div Callers,
    Finished = atomics:new(1, []),
    T0 = now_ns(),
    [spawn(fun() -> calls(Server, Per), count_up(Finished, Callers, Driver, callers_done) end)
     || _ <- lists:seq(1, Callers)],
    receive callers_done -> ok end,
    Elapsed = now_ns() - T0,
    Calls = Per * Callers,
    Final = gen_server:call(Server, incr),
    gen_server:stop(Server),
    {[{"callers", int(Callers)}, {"calls", int(Calls)},
      {"calls_per_s", dec0(Calls / (Elapsed / 1.0e9))}],
     failures([{Final =:= Calls + 1,
                fmt("server counted ~b calls, expected ~b", [Final - 1, Calls])}])};

%% ---- fairness HOGS (a 1 ms ticker beside HOGS processes computing 5 x 200 ms) ----

run("fairness", [Hogs]) ->
    Driver = self(),
    Measuring = atomics:new(1, []),
    Ticker = spawn(fun() -> tick(Measuring, now_ns(), []) end),
    receive after 20 -> ok end,
    atomics:put(Measuring, 1, 1),
    Finished = atomics:new(1, []),
    [spawn(fun() -> hog(5), count_up(Finished, Hogs, Driver, hogs_done) end)
     || _ <- lists:seq(1, Hogs)],
    receive hogs_done -> ok end,
    atomics:put(Measuring, 1, 0),
    Ticker ! {stop, self()},
    Gaps = lists:sort(receive {gaps, G} -> G end),
    N = length(Gaps),
    At = fun(Q) -> lists:nth(max(1, ceil(N * Q)), Gaps) end,
    Ms = fun(Ns) -> dec1(Ns / 1.0e6) end,
    {[{"hogs", int(Hogs)}, {"worst_gap_ms", Ms(lists:last(Gaps))},
      {"p99_gap_ms", Ms(At(0.99))}, {"p50_gap_ms", Ms(At(0.5))}, {"ticks", int(N)}],
     failures([{N >= 2, "the ticker never ticked"}])};

%% ---- fanout SUBS MSGS ----

run("fanout", [Subs, Msgs]) ->
    Driver = self(),
    Complete = atomics:new(1, []),
    Pids = [spawn(fun() -> sub({0, 0, 0}, Msgs, Complete, Subs, Driver) end)
            || _ <- lists:seq(1, Subs)],
    T0 = now_ns(),
    publish(0, Msgs, Pids),
    receive subs_done -> ok end,
    Elapsed = now_ns() - T0,
    Stats = [ask(P, stats) || P <- Pids],
    lists:foreach(fun(P) -> P ! stop end, Pids),
    Want = {Msgs, Msgs * (Msgs - 1) div 2, 0},
    Bad = length([S || S <- Stats, S =/= Want]),
    Delivered = lists:sum([C || {C, _, _} <- Stats]),
    {[{"subs", int(Subs)}, {"msgs", int(Msgs)},
      {"deliveries_per_s", dec0(Subs * Msgs / (Elapsed / 1.0e9))}],
     failures([{Bad =:= 0,
                fmt("~b of ~b subscribers saw a wrong count, sum or order; "
                    "~b deliveries, expected ~b", [Bad, Subs, Delivered, Subs * Msgs])}])};

%% ---- suploop RESTARTS (bench_loop) ----

%% From the supervisor's start until the child's (RESTARTS+1)-th start, in a loop where every
%% child fails as soon as it is up. The logger is quieted as for suprestart.
run("suploop", [Restarts]) ->
    ok = logger:set_primary_config(level, critical),
    process_flag(trap_exit, true),
    Counter = atomics:new(1, []),
    T0 = now_ns(),
    {ok, Sup} = bench_loop:start_link(self(), Counter, Restarts),
    Done = receive {loop_done, N} -> N end,
    Elapsed = now_ns() - T0,
    Starts = atomics:get(Counter, 1),
    Alive = is_process_alive(Sup),
    unlink(Sup),
    exit(Sup, shutdown),
    {[{"restarts", int(Restarts)},
      {"restarts_per_s", dec0(Restarts / (Elapsed / 1.0e9))}],
     failures([{Done =:= Restarts + 1 andalso Starts =:= Restarts + 1 andalso Alive,
                fmt("~b starts for ~b restarts (want ~b), supervisor alive: ~p",
                    [Starts, Restarts, Restarts + 1, Alive])}])};

%% ---- suprestart KILLS (bench_sup + bench_child) ----

%% Per kill: from `exit(Child, kill)` until the restarted child, which announced itself from
%% its init, has answered a gen_server:call.
%% The logger is quieted (level critical, the anchors' "quiet 1"): each restart's
%% supervisor report would otherwise be formatted and printed, while beamish's reports are
%% tracing events that nothing subscribes to here.
run("suprestart", [Kills]) ->
    ok = logger:set_primary_config(level, critical),
    process_flag(trap_exit, true),
    {ok, Sup} = bench_sup:start_link(self()),
    First = receive {child_up, P0} -> P0 end,
    {Lat, Same} = kill_loop(Kills, First, [], 0),
    %% Every restart announced itself exactly once: no child_up is left over.
    Extra = flush_ups(0),
    [{child, Current, worker, _}] = supervisor:which_children(Sup),
    unlink(Sup),
    exit(Sup, shutdown),
    Observed = length(Lat),
    Sorted = lists:sort(Lat),
    {Med, P50, P99} = case Sorted of
                          [] -> {0.0, 0.0, 0.0};
                          _ -> {median(Sorted), percentile(Sorted, 0.5), percentile(Sorted, 0.99)}
                      end,
    {[{"kills", int(Kills)}, {"us_per_restart", dec1(Med)}, {"p50_us", dec1(P50)},
      {"p99_us", dec1(P99)}],
     failures([{Observed =:= Kills andalso Same =:= 0,
                fmt("~b of ~b restarts observed, ~b with the killed server's pid",
                    [Observed, Kills, Same])},
               {Observed + Extra =:= Kills andalso is_pid(Current),
                fmt("~b restarts announced for ~b kills", [Observed + Extra, Kills])}])};

%% ---- pubsub SUBS MSGS (pg) ----

%% Subscribers join one pg group; the publisher sends each message to pg:get_members/1.
run("pubsub", [Subs, Msgs]) ->
    {ok, _} = pg:start_link(),
    Driver = self(),
    Joined = atomics:new(1, []),
    Complete = atomics:new(1, []),
    Pids = [spawn(fun() ->
                      ok = pg:join(bench, self()),
                      count_up(Joined, Subs, Driver, all_joined),
                      sub({0, 0, 0}, Msgs, Complete, Subs, Driver)
                  end)
            || _ <- lists:seq(1, Subs)],
    receive all_joined -> ok end,
    Subs = length(pg:get_members(bench)),
    T0 = now_ns(),
    spawn(fun() -> publish_pg(0, Msgs) end),
    receive subs_done -> ok end,
    Elapsed = now_ns() - T0,
    Stats = [ask(P, stats) || P <- Pids],
    lists:foreach(fun(P) -> P ! stop end, Pids),
    Want = {Msgs, Msgs * (Msgs - 1) div 2, 0},
    Bad = length([S || S <- Stats, S =/= Want]),
    Delivered = lists:sum([C || {C, _, _} <- Stats]),
    {[{"subs", int(Subs)}, {"msgs", int(Msgs)},
      {"deliveries_per_s", dec0(Subs * Msgs / (Elapsed / 1.0e9))}],
     failures([{Bad =:= 0,
                fmt("~b of ~b subscribers saw a wrong count, sum or order; "
                    "~b deliveries, expected ~b", [Bad, Subs, Delivered, Subs * Msgs])}])};

%% ---- timers N ----

%% N timers (erlang:send_after/4 with an absolute time) to one receiver, all due at one
%% instant, as `timers` in bench/src: bytes per pending timer (resident memory, and
%% erlang:memory(total)), then fires per second from that instant until the receiver has
%% them all. The lead before they are due is `timers_lead` in bench/src/common.rs.
run("timers", [N]) ->
    Driver = self(),
    Receiver = spawn(fun() -> timer_receiver(N, 0, 0, undefined, Driver) end),
    erlang:garbage_collect(),
    Mem0 = erlang:memory(total),
    Rss0 = rss_bytes(),
    T0 = now_ns(),
    DueMs = erlang:monotonic_time(millisecond) + 1000 + (2 * N) div 1000,
    DueNs = erlang:convert_time_unit(DueMs, millisecond, nanosecond),
    set_timers(N, Receiver, DueMs),
    Set = now_ns() - T0,
    InTime = now_ns() < DueNs,
    Mem1 = erlang:memory(total),
    Rss1 = rss_bytes(),
    {Got, Sum, First, Last} = receive {timers_done, G, S, F, L} -> {G, S, F, L} end,
    FireAll = Last - DueNs,
    Want = N * (N - 1) div 2,
    {[{"n", int(N)},
      {"fires_per_s", dec0(N / (FireAll / 1.0e9))},
      {"bytes_per_timer", dec1((Rss1 - Rss0) / N)},
      {"set_ns_per", dec1(Set / N)},
      {"fire_ms", dec1(FireAll / 1.0e6)},
      {"erlmem_bytes_per", dec1((Mem1 - Mem0) / N)}],
     failures([{Got =:= N andalso Sum =:= Want,
                fmt("the receiver got ~b messages summing to ~b, expected ~b summing to ~b",
                    [Got, Sum, N, Want])},
               {First >= DueNs, "a timer fired before its deadline"},
               {InTime, "setting the timers took longer than the lead before they were due"}])};

run(Workload, Args) ->
    io:format(standard_error, "beamish_bench: unknown workload or arguments: ~s ~p~n",
              [Workload, Args]),
    halt(2).

%% ---- actors ----

set_timers(0, _, _) ->
    ok;
set_timers(K, Receiver, DueMs) ->
    erlang:send_after(DueMs, Receiver, K - 1, [{abs, true}]),
    set_timers(K - 1, Receiver, DueMs).

timer_receiver(N, N, Sum, First, Driver) ->
    Driver ! {timers_done, N, Sum, First, now_ns()};
timer_receiver(N, Got, Sum, First, Driver) ->
    receive
        V when is_integer(V) ->
            F = case First of undefined -> now_ns(); _ -> First end,
            timer_receiver(N, Got + 1, Sum + V, F, Driver)
    end.

spawn_idle(0, _, _, _, _, Acc) ->
    Acc;
spawn_idle(K, N, Started, Stopped, Driver, Acc) ->
    P = spawn(fun() -> idle(Started, Stopped, Driver, N) end),
    spawn_idle(K - 1, N, Started, Stopped, Driver, [P | Acc]).

idle(Started, Stopped, Driver, N) ->
    count_up(Started, N, Driver, all_started),
    receive stop -> count_up(Stopped, N, Driver, all_stopped) end.

%% A ping-pong player: the one told to serve counts balls down and reports to the driver;
%% the other returns every ball. Both count the balls they received.
player(Peer, Got) ->
    receive
        {peer, P} -> player(P, Got);
        {serve, N, Driver} -> Peer ! {ball, N}, pinger(Peer, Driver, Got);
        {ball, K} -> Peer ! {ball, K}, player(Peer, Got + 1);
        {received, From} -> From ! {received, Got}, player(Peer, Got);
        stop -> ok
    end.

pinger(Peer, Driver, Got) ->
    receive
        {ball, 1} -> Driver ! {finished, Got + 1}, player(Peer, Got + 1);
        {ball, K} -> Peer ! {ball, K - 1}, pinger(Peer, Driver, Got + 1)
    end.

ring_start(Index, Driver) ->
    receive {next, Next} -> ring_node(Index, Next, Driver, 0) end.

ring_node(Index, Next, Driver, Handled) ->
    receive
        {token, 0} -> Driver ! {token_done, Index}, ring_node(Index, Next, Driver, Handled + 1);
        {token, K} -> Next ! {token, K - 1}, ring_node(Index, Next, Driver, Handled + 1);
        {handled, From} -> From ! {handled, self(), Handled}, ring_node(Index, Next, Driver, Handled);
        stop -> ok
    end.

%% Asks a ring node or subscriber for its own count.
ask(Pid, What) ->
    Pid ! {What, self()},
    receive {What, Pid, Answer} -> Answer end.

sky(Parent, Num, 1) ->
    Parent ! {sum, Num};
sky(Parent, Num, Size) ->
    Me = self(),
    Child = Size div 10,
    lists:foreach(fun(I) -> spawn(fun() -> sky(Me, Num + I * Child, Child) end) end,
                  lists:seq(0, 9)),
    Parent ! {sum, collect(10, 0)}.

collect(0, Sum) -> Sum;
collect(K, Sum) -> receive {sum, V} -> collect(K - 1, Sum + V) end.

calls(_, 0) -> ok;
calls(Server, K) -> _ = gen_server:call(Server, incr), calls(Server, K - 1).

%% A subscriber keeps {Count, Sum, OutOfOrder}; the publisher sends 0, 1, 2, ...
sub({Count, Sum, Ooo} = Stats, Msgs, Complete, Subs, Driver) ->
    receive
        {pub, V} ->
            Count1 = Count + 1,
            Count1 =:= Msgs andalso count_up(Complete, Subs, Driver, subs_done),
            Ooo1 = case V of Count -> Ooo; _ -> Ooo + 1 end,
            sub({Count1, Sum + V, Ooo1}, Msgs, Complete, Subs, Driver);
        {stats, From} ->
            From ! {stats, self(), Stats},
            sub(Stats, Msgs, Complete, Subs, Driver);
        stop ->
            ok
    end.

publish(M, Msgs, _) when M >= Msgs -> ok;
publish(M, Msgs, Pids) ->
    lists:foreach(fun(P) -> P ! {pub, M} end, Pids),
    publish(M + 1, Msgs, Pids).

kill_loop(0, _, Lat, Same) ->
    {Lat, Same};
kill_loop(K, Child, Lat, Same) ->
    T0 = now_ns(),
    exit(Child, kill),
    receive
        {child_up, New} ->
            {pong, Answered} = gen_server:call(New, ping),
            Us = (now_ns() - T0) / 1000,
            Same1 = case Answered of Child -> Same + 1; _ -> Same end,
            kill_loop(K - 1, New, [Us | Lat], Same1)
    after 5000 ->
        {Lat, Same}
    end.

flush_ups(N) ->
    receive {child_up, _} -> flush_ups(N + 1) after 0 -> N end.

%% Nearest rank, as `percentile` in bench/src/common.rs.
percentile(Sorted, P) ->
    N = length(Sorted),
    Rank = max(1, min(N, ceil(P * N))),
    lists:nth(Rank, Sorted).

median(Sorted) ->
    N = length(Sorted),
    case N rem 2 of
        1 -> lists:nth(N div 2 + 1, Sorted);
        0 -> (lists:nth(N div 2, Sorted) + lists:nth(N div 2 + 1, Sorted)) / 2
    end.

publish_pg(M, Msgs) when M >= Msgs -> ok;
publish_pg(M, Msgs) ->
    lists:foreach(fun(P) -> P ! {pub, M} end, pg:get_members(bench)),
    publish_pg(M + 1, Msgs).

%% ---- gen_server callbacks: the counter server of the call workload ----

init([]) -> {ok, 0}.
handle_call(incr, _From, Count) -> {reply, Count + 1, Count + 1}.
handle_cast(_Msg, Count) -> {noreply, Count}.

%% ---- fairness: the ticker and the hogs ----

tick(Measuring, Last, Gaps) ->
    receive
        {stop, From} -> From ! {gaps, Gaps}
    after 1 ->
        Now = now_ns(),
        case atomics:get(Measuring, 1) of
            1 -> tick(Measuring, Now, [Now - Last | Gaps]);
            _ -> tick(Measuring, Now, Gaps)
        end
    end.

%% Computes for 200 ms, Chunks times over, never waiting: the BEAM preempts it by reductions.
hog(0) -> ok;
hog(Chunks) ->
    spin(now_ns() + 200000000, 0),
    hog(Chunks - 1).

spin(Until, X) ->
    case now_ns() >= Until of
        true -> X;
        false -> spin(Until, lists:foldl(fun(I, A) -> (A * 31 + I) band 16#FFFFFF end, X,
                                         lists:seq(1, 1000)))
    end.
