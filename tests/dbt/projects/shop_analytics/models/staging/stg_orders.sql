with source as (
    select * from {{ source('shop', 'orders') }}
),

renamed as (
    select
        order_id,
        customer_id,
        lower(status) as status,
        {{ cents_to_currency('amount_cents') }} as amount,
        date(ordered_at) as order_date,
        updated_at
    from source
)

select * from renamed
