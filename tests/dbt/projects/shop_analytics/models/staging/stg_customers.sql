with source as (
    select * from {{ source('shop', 'customers') }}
),

renamed as (
    select
        customer_id,
        trim(name) as customer_name,
        upper(country_code) as country_code,
        updated_at
    from source
)

select * from renamed
