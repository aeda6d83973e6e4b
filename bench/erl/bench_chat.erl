%% The chat workload on the BEAM, as bench/src/chat/ defines it: a gen_tcp listener on
%% 127.0.0.1, an acceptor, one process per connection ({packet, line}, {active, true}), a
%% gen_server per room started on first use by a lobby gen_server, the room's fan-out to its
%% pg group (OTP has no Phoenix.PubSub; pg is what it builds on), and the room's member map
%% with a monitor per member standing for Presence. The load generator is the Rust binary's
%% `chatload` subcommand, run as another OS process through a port; its report becomes the
%% result line.
-module(bench_chat).
-behaviour(gen_server).

-export([run/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-define(SCOPE, bench_chat).

%% Returns {Fields, Failures} as beamish_bench's workloads do.
run([Clients, Rooms, Burst, Rate], Loader) ->
    {ok, _} = pg:start_link(?SCOPE),
    {ok, Lobby} = gen_server:start(?MODULE, lobby, []),
    {ok, Listen} = gen_tcp:listen(0, [binary, {packet, line}, {active, false},
                                      {ip, {127, 0, 0, 1}}, {backlog, 1024},
                                      {nodelay, true}, {reuseaddr, true}]),
    {ok, Port} = inet:port(Listen),
    Acceptor = spawn(fun() -> accept(Listen, Clients, Lobby) end),
    ok = gen_tcp:controlling_process(Listen, Acceptor),
    Args = ["chatload" | [integer_to_list(N) || N <- [Port, Clients, Rooms, Burst, Rate]]],
    LoadPort = open_port({spawn_executable, Loader},
                         [{args, Args}, {line, 65536}, exit_status, use_stdio, binary]),
    Report = collect(LoadPort, <<>>),
    Fields = [{binary_to_list(K), binary_to_list(V)}
              || KV <- binary:split(Report, <<"\t">>, [global]),
                 [K, V] <- [binary:split(KV, <<"=">>)]],
    Keep = ["deliveries_per_s", "p50_us", "p99_us", "burst_ms", "burst_deliveries",
            "paced_deliveries", "paced_late_ms"],
    Check = proplists:get_value("check", Fields, "none"),
    {[{"clients", integer_to_list(Clients)}, {"rooms", integer_to_list(Rooms)}
      | [{K, V} || {K, V} <- Fields, lists:member(K, Keep)]],
     case Check of
         "ok" -> [];
         "none" -> ["the loader printed no report"];
         _ -> ["loader: " ++ proplists:get_value("detail", Fields, "")]
     end}.

%% The loader's CHATLOAD line (its fields after the tag), once it has exited.
collect(Port, Report) ->
    receive
        {Port, {data, {eol, <<"CHATLOAD\t", Rest/binary>>}}} -> collect(Port, Rest);
        {Port, {data, _}} -> collect(Port, Report);
        {Port, {exit_status, _}} -> Report
    end.

%% Accepts exactly the clients the loader opens, so that the loop ends.
accept(_Listen, 0, _Lobby) -> ok;
accept(Listen, N, Lobby) ->
    {ok, Sock} = gen_tcp:accept(Listen),
    Pid = spawn(fun() -> receive go -> ok end, connection(Sock, Lobby, #{}) end),
    ok = gen_tcp:controlling_process(Sock, Pid),
    ok = inet:setopts(Sock, [{active, true}]),
    Pid ! go,
    accept(Listen, N - 1, Lobby).

%% One client: lines from the socket, pushes from the rooms it joined.
connection(Sock, Lobby, Joined) ->
    receive
        {tcp, Sock, Line} ->
            case binary:split(string:chomp(Line), <<" ">>) of
                [<<"JOIN">>, Name] when not is_map_key(Name, Joined) ->
                    Room = gen_server:call(Lobby, {room, Name}),
                    ok = pg:join(?SCOPE, Name, self()),
                    ok = gen_server:call(Room, {join, self()}),
                    ok = gen_tcp:send(Sock, [<<"JOINED ">>, Name, <<"\n">>]),
                    connection(Sock, Lobby, Joined#{Name => Room});
                [<<"MSG">>, Rest] ->
                    case binary:split(Rest, <<" ">>) of
                        [Name, Text] when is_map_key(Name, Joined) ->
                            gen_server:cast(map_get(Name, Joined), {post, Text});
                        _ -> ok
                    end,
                    connection(Sock, Lobby, Joined);
                _ ->
                    connection(Sock, Lobby, Joined)
            end;
        {push, Line} ->
            %% gen_tcp:send waits for the port's reply with a selective receive, which scans
            %% the whole mailbox: with thousands of pushes queued in a burst, one send per
            %% push is quadratic (14,808 deliveries/s at 100 clients, and one run stalled past
            %% the loader's 60 s). So send what is queued in one go.
            case gen_tcp:send(Sock, [Line | queued_pushes([])]) of
                ok -> connection(Sock, Lobby, Joined);
                {error, _} -> ok
            end;
        {tcp_closed, Sock} -> ok;
        {tcp_error, Sock, _} -> ok
    end.

queued_pushes(Acc) ->
    receive {push, Line} -> queued_pushes([Line | Acc])
    after 0 -> lists:reverse(Acc)
    end.

%% ---- the lobby and the rooms: one gen_server module, two kinds of state ----

init(lobby) -> {ok, {lobby, #{}}};
init({room, Name}) -> {ok, {room, Name, #{}}}.

handle_call({room, Name}, _From, {lobby, Rooms}) ->
    case Rooms of
        #{Name := Room} -> {reply, Room, {lobby, Rooms}};
        _ ->
            {ok, Room} = gen_server:start(?MODULE, {room, Name}, []),
            {reply, Room, {lobby, Rooms#{Name => Room}}}
    end;
handle_call({join, Pid}, _From, {room, Name, Members}) ->
    Ref = erlang:monitor(process, Pid),
    {reply, ok, {room, Name, Members#{Pid => Ref}}}.

handle_cast({post, Text}, {room, Name, _} = State) ->
    Line = iolist_to_binary([Name, <<": ">>, Text, <<"\n">>]),
    [P ! {push, Line} || P <- pg:get_members(?SCOPE, Name)],
    {noreply, State}.

handle_info({'DOWN', _, process, Pid, _}, {room, Name, Members}) ->
    {noreply, {room, Name, maps:remove(Pid, Members)}};
handle_info(_, State) ->
    {noreply, State}.
