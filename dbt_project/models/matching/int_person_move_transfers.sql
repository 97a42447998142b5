-- The electricity accounts put in a person's name since the previous export (signs of a move,
-- part of int_person_moves).
--
-- Signs of a move read against the previous month. The account of a flat put in a person's name
-- since the previous delivery's export (过户, done when moving in; a name no one else in the
-- district carries, written the same, and not a one-character correction of the old name) says where they live now:
-- at their police flat, it confirms a fresh police address (the flat they left may still read
-- lived in, the new one empty, as the export lags the move); elsewhere, the police have not caught
-- up.
with police_room as (
    select * from {{ ref('int_person_police_room') }}
),

export_accounts as (
    select * from {{ ref('int_electricity_export_accounts') }}
),

facts as (
    select * from {{ ref('int_person_move_facts') }}
),

person_names as (
    select cluster_key, name, name_key, name_unique from facts
    where name is not null
),

under_sixty as (
    select cluster_key from facts
    where under_sixty
),

elderly_listed as (
    select cluster_key from facts
    where elderly_listed
),

transferred_accounts as (
    select c.building, c.room, c.account_name
    from export_accounts c
    join export_accounts p on p.account_no = c.account_no and p.delivery < c.delivery
    where
        c.delivery = {{ current_delivery() }} and c.room is not null
        and c.name_key is not null and p.name_key is not null and c.name_key <> p.name_key
        and {{ edit_distance('c.account_name', 'p.account_name') }} > 1
),

transfers as (
    select
        p.cluster_key, p.building as police_building, p.room as police_room,
        min(t.building) as building, min(t.room) as room
    from police_room p
    join person_names n on n.cluster_key = p.cluster_key and n.name_unique
    join transferred_accounts t on t.account_name = n.name
    where p.cluster_key not in (select cluster_key from elderly_listed)
    group by p.cluster_key, p.building, p.room
    having count(distinct t.building || '#' || t.room) = 1
),

final as (
    -- the transfers that decide where someone lives: at their police flat (confirmed), or elsewhere
    -- for someone under 60 (moved); an older person's transfer elsewhere decides nothing
    select
        t.*,
        coalesce(t.building || '#' || t.room = t.police_building || '#' || t.police_room, false)
        or u.cluster_key is not null as taken
    from transfers t
    left join under_sixty u on u.cluster_key = t.cluster_key
)

select * from final
